"""The console's words in Danish, Norwegian (bokmål) and English, and how it writes amounts
and dates in each.

A page never holds a word of its own: its template asks ``t("key")`` (and ``t("key",
name=...)`` for a text with ``{name}`` in it), and :data:`CATALOGUE` has the key in every
language; ``tests/console/test_i18n.py`` checks that each key is in all three with the same
``{placeholders}``, and that every key a template or page asks for exists.

Amounts are written as the hub's letters write them (:func:`hub.operations.formats.
format_amount`): ``1.234,50 kr.`` (da), ``1 234,50 kr`` (nb), ``DKK 1,234.50`` (en); dates
``31.01.2026`` in da and nb, ``2026-01-31`` (ISO) in en.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Final

from hub.operations.formats import LANGUAGES, format_amount

__all__ = [
    "CATALOGUE",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Words",
    "amount",
    "date",
    "negotiate",
]

#: The language of a visitor who has not logged in and whose browser asks for none we have.
DEFAULT_LANGUAGE: Final = "en"

#: The languages' own names, shown in the language picker (the same in every language).
LANGUAGE_NAMES: Final = {"da": "Dansk", "nb": "Norsk (bokmål)", "en": "English"}

_ALIASES = {"da": "da", "nb": "nb", "no": "nb", "nn": "nb", "en": "en"}

CATALOGUE: Final[dict[str, dict[str, str]]] = {
    "en": {
        "app.name": "Receivables hub",
        "nav.label": "Main",
        "nav.overview": "Overview",
        "nav.clients": "Clients",
        "nav.cases": "Cases",
        "nav.letters": "Letters",
        "nav.dispatch": "Dispatch",
        "nav.recurring": "Recurring",
        "nav.runs": "Runs",
        "nav.audit": "Audit",
        "nav.users": "Users",
        "nav.account": "My account",
        "nav.logout": "Log out",
        "role.admin": "admin",
        "role.consultant": "consultant",
        "role.viewer": "viewer",
        "common.save": "Save",
        "common.yes": "yes",
        "common.no": "no",
        "common.none": "none",
        "common.all_clients": "every client",
        "common.actions": "Actions",
        "login.title": "Log in",
        "login.name": "User name",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.failed": "Wrong user name or password.",
        "login.limited": "Too many failed logins. Try again in {minutes} minutes.",
        "login.expired": "Your session has ended; log in again.",
        "login.logged_out": "You are logged out.",
        "overview.title": "Overview",
        "overview.welcome": "Logged in as {name} ({role}).",
        "overview.clients": "Your clients",
        "clients.title": "Clients",
        "clients.empty": "No clients to show.",
        "client.name": "Name",
        "client.country": "Country",
        "client.currency": "Currency",
        "client.timezone": "Time zone",
        "client.plugin": "Accounting plugin",
        "client.title": "Client {name}",
        "client.plugins": "Plugins",
        "client.enabled": "Enabled",
        "client.settings": "Settings",
        "client.no_plugins": "No plugin is enabled.",
        "account.title": "My account",
        "account.name": "User name",
        "account.role": "Role",
        "account.clients": "Clients",
        "account.language": "Language",
        "account.saved": "Your language is saved.",
        "users.title": "Users",
        "users.empty": "No users yet.",
        "users.name": "Name",
        "users.role": "Role",
        "users.clients": "Clients",
        "users.clients_hint": "Comma-separated client names; empty for an admin (every client).",
        "users.language": "Language",
        "users.password": "Password",
        "users.add": "Add a user",
        "users.add_submit": "Add",
        "users.added": "User {name} added.",
        "users.remove": "Remove",
        "users.removed": "User {name} removed.",
        "users.tokens": "API tokens",
        "users.tokens_of": "API tokens of {name}",
        "users.no_tokens": "No API tokens.",
        "users.token_name": "What the token is for",
        "users.token_user": "For user",
        "users.token_create": "Create a token",
        "users.token_created": "Token for {name} created. Copy it now: it is shown only once.",
        "users.token_id": "Id",
        "users.token_prefix": "Begins with",
        "users.token_created_at": "Created",
        "users.token_last_used": "Last used",
        "users.token_state": "State",
        "users.token_active": "active",
        "users.token_revoked": "revoked",
        "users.token_revoke": "Revoke",
        "users.token_was_revoked": "Token {id} revoked.",
        "page.previous": "Previous",
        "page.next": "Next",
        "page.showing": "{first}–{last} of {total}",
        "error.title": "Not done",
        "error.back": "Back to the overview",
        "error.400": "The request was not understood.",
        "error.403": "You may not do this.",
        "error.403.title": "Not allowed",
        "error.404": "There is nothing here, or nothing you may see.",
        "error.404.title": "Not found",
        "error.405": "This address does not take that kind of request.",
        "error.409": "Not now: the thing is busy or has changed. Try again.",
        "error.413": "The request is too large.",
        "error.429": "Too many attempts. Try again later.",
        "error.500": "Something went wrong; it has been logged.",
        "error.csrf": (
            "The form was refused: it is too old or did not come from this console. "
            "Reload the page and send it again."
        ),
    },
    "da": {
        "app.name": "Receivables hub",
        "nav.label": "Hovedmenu",
        "nav.overview": "Overblik",
        "nav.clients": "Klienter",
        "nav.cases": "Sager",
        "nav.letters": "Breve",
        "nav.dispatch": "Udsendelse",
        "nav.recurring": "Faste fakturaer",
        "nav.runs": "Kørsler",
        "nav.audit": "Revisionslog",
        "nav.users": "Brugere",
        "nav.account": "Min konto",
        "nav.logout": "Log ud",
        "role.admin": "administrator",
        "role.consultant": "konsulent",
        "role.viewer": "læser",
        "common.save": "Gem",
        "common.yes": "ja",
        "common.no": "nej",
        "common.none": "ingen",
        "common.all_clients": "alle klienter",
        "common.actions": "Handlinger",
        "login.title": "Log ind",
        "login.name": "Brugernavn",
        "login.password": "Adgangskode",
        "login.submit": "Log ind",
        "login.failed": "Forkert brugernavn eller adgangskode.",
        "login.limited": "For mange mislykkede forsøg. Prøv igen om {minutes} minutter.",
        "login.expired": "Din session er udløbet; log ind igen.",
        "login.logged_out": "Du er logget ud.",
        "overview.title": "Overblik",
        "overview.welcome": "Logget ind som {name} ({role}).",
        "overview.clients": "Dine klienter",
        "clients.title": "Klienter",
        "clients.empty": "Ingen klienter at vise.",
        "client.name": "Navn",
        "client.country": "Land",
        "client.currency": "Valuta",
        "client.timezone": "Tidszone",
        "client.plugin": "Regnskabsplugin",
        "client.title": "Klient {name}",
        "client.plugins": "Plugins",
        "client.enabled": "Slået til",
        "client.settings": "Indstillinger",
        "client.no_plugins": "Intet plugin er slået til.",
        "account.title": "Min konto",
        "account.name": "Brugernavn",
        "account.role": "Rolle",
        "account.clients": "Klienter",
        "account.language": "Sprog",
        "account.saved": "Dit sprog er gemt.",
        "users.title": "Brugere",
        "users.empty": "Ingen brugere endnu.",
        "users.name": "Navn",
        "users.role": "Rolle",
        "users.clients": "Klienter",
        "users.clients_hint": "Klientnavne adskilt af komma; tomt for en administrator (alle).",
        "users.language": "Sprog",
        "users.password": "Adgangskode",
        "users.add": "Tilføj en bruger",
        "users.add_submit": "Tilføj",
        "users.added": "Brugeren {name} er tilføjet.",
        "users.remove": "Fjern",
        "users.removed": "Brugeren {name} er fjernet.",
        "users.tokens": "API-nøgler",
        "users.tokens_of": "API-nøgler for {name}",
        "users.no_tokens": "Ingen API-nøgler.",
        "users.token_name": "Hvad nøglen bruges til",
        "users.token_user": "Til brugeren",
        "users.token_create": "Opret en nøgle",
        "users.token_created": (
            "Nøglen til {name} er oprettet. Kopiér den nu: den vises kun denne ene gang."
        ),
        "users.token_id": "Id",
        "users.token_prefix": "Begynder med",
        "users.token_created_at": "Oprettet",
        "users.token_last_used": "Sidst brugt",
        "users.token_state": "Status",
        "users.token_active": "aktiv",
        "users.token_revoked": "tilbagekaldt",
        "users.token_revoke": "Tilbagekald",
        "users.token_was_revoked": "Nøgle {id} er tilbagekaldt.",
        "page.previous": "Forrige",
        "page.next": "Næste",
        "page.showing": "{first}–{last} af {total}",
        "error.title": "Ikke udført",
        "error.back": "Tilbage til overblikket",
        "error.400": "Forespørgslen blev ikke forstået.",
        "error.403": "Det har du ikke lov til.",
        "error.403.title": "Ikke tilladt",
        "error.404": "Her er intet, eller intet du må se.",
        "error.404.title": "Ikke fundet",
        "error.405": "Denne adresse tager ikke imod den slags forespørgsler.",
        "error.409": "Ikke nu: det er optaget eller er blevet ændret. Prøv igen.",
        "error.413": "Forespørgslen er for stor.",
        "error.429": "For mange forsøg. Prøv igen senere.",
        "error.500": "Noget gik galt; det er logget.",
        "error.csrf": (
            "Formularen blev afvist: den er for gammel eller kom ikke fra denne konsol. "
            "Genindlæs siden og send den igen."
        ),
    },
    "nb": {
        "app.name": "Receivables hub",
        "nav.label": "Hovedmeny",
        "nav.overview": "Oversikt",
        "nav.clients": "Klienter",
        "nav.cases": "Saker",
        "nav.letters": "Brev",
        "nav.dispatch": "Utsending",
        "nav.recurring": "Faste fakturaer",
        "nav.runs": "Kjøringer",
        "nav.audit": "Revisjonslogg",
        "nav.users": "Brukere",
        "nav.account": "Min konto",
        "nav.logout": "Logg ut",
        "role.admin": "administrator",
        "role.consultant": "konsulent",
        "role.viewer": "leser",
        "common.save": "Lagre",
        "common.yes": "ja",
        "common.no": "nei",
        "common.none": "ingen",
        "common.all_clients": "alle klienter",
        "common.actions": "Handlinger",
        "login.title": "Logg inn",
        "login.name": "Brukernavn",
        "login.password": "Passord",
        "login.submit": "Logg inn",
        "login.failed": "Feil brukernavn eller passord.",
        "login.limited": "For mange mislykkede forsøk. Prøv igjen om {minutes} minutter.",
        "login.expired": "Økten din er utløpt; logg inn igjen.",
        "login.logged_out": "Du er logget ut.",
        "overview.title": "Oversikt",
        "overview.welcome": "Logget inn som {name} ({role}).",
        "overview.clients": "Dine klienter",
        "clients.title": "Klienter",
        "clients.empty": "Ingen klienter å vise.",
        "client.name": "Navn",
        "client.country": "Land",
        "client.currency": "Valuta",
        "client.timezone": "Tidssone",
        "client.plugin": "Regnskapsplugin",
        "client.title": "Klient {name}",
        "client.plugins": "Plugins",
        "client.enabled": "Slått på",
        "client.settings": "Innstillinger",
        "client.no_plugins": "Ingen plugin er slått på.",
        "account.title": "Min konto",
        "account.name": "Brukernavn",
        "account.role": "Rolle",
        "account.clients": "Klienter",
        "account.language": "Språk",
        "account.saved": "Språket ditt er lagret.",
        "users.title": "Brukere",
        "users.empty": "Ingen brukere ennå.",
        "users.name": "Navn",
        "users.role": "Rolle",
        "users.clients": "Klienter",
        "users.clients_hint": "Klientnavn skilt med komma; tomt for en administrator (alle).",
        "users.language": "Språk",
        "users.password": "Passord",
        "users.add": "Legg til en bruker",
        "users.add_submit": "Legg til",
        "users.added": "Brukeren {name} er lagt til.",
        "users.remove": "Fjern",
        "users.removed": "Brukeren {name} er fjernet.",
        "users.tokens": "API-nøkler",
        "users.tokens_of": "API-nøkler for {name}",
        "users.no_tokens": "Ingen API-nøkler.",
        "users.token_name": "Hva nøkkelen brukes til",
        "users.token_user": "For brukeren",
        "users.token_create": "Opprett en nøkkel",
        "users.token_created": (
            "Nøkkelen for {name} er opprettet. Kopier den nå: den vises bare denne ene gangen."
        ),
        "users.token_id": "Id",
        "users.token_prefix": "Begynner med",
        "users.token_created_at": "Opprettet",
        "users.token_last_used": "Sist brukt",
        "users.token_state": "Status",
        "users.token_active": "aktiv",
        "users.token_revoked": "tilbakekalt",
        "users.token_revoke": "Tilbakekall",
        "users.token_was_revoked": "Nøkkel {id} er tilbakekalt.",
        "page.previous": "Forrige",
        "page.next": "Neste",
        "page.showing": "{first}–{last} av {total}",
        "error.title": "Ikke utført",
        "error.back": "Tilbake til oversikten",
        "error.400": "Forespørselen ble ikke forstått.",
        "error.403": "Det har du ikke lov til.",
        "error.403.title": "Ikke tillatt",
        "error.404": "Her er det ingenting, eller ingenting du får se.",
        "error.404.title": "Ikke funnet",
        "error.405": "Denne adressen tar ikke imot den typen forespørsler.",
        "error.409": "Ikke nå: det er opptatt eller har endret seg. Prøv igjen.",
        "error.413": "Forespørselen er for stor.",
        "error.429": "For mange forsøk. Prøv igjen senere.",
        "error.500": "Noe gikk galt; det er logget.",
        "error.csrf": (
            "Skjemaet ble avvist: det er for gammelt eller kom ikke fra denne konsollen. "
            "Last siden på nytt og send det igjen."
        ),
    },
}


def language(raw: str | None) -> str:
    """One of :data:`LANGUAGES` for ``raw`` (``"da-DK"``, ``"no"``, ``"nn"`` count), else the
    default."""
    if not raw:
        return DEFAULT_LANGUAGE
    base = re.split(r"[-_]", raw.strip().lower(), maxsplit=1)[0]
    return _ALIASES.get(base, DEFAULT_LANGUAGE)


def negotiate(accept_language: str | None) -> str:
    """The language for a visitor not logged in: the first of the browser's
    ``Accept-Language`` we have, by its ``q`` weight, else English."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        match = re.search(r"q\s*=\s*([01](?:\.\d{0,3})?)", params)
        if match:
            weight = float(match.group(1))
        base = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
        if base in _ALIASES and weight > 0:
            choices.append((-weight, index, _ALIASES[base]))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE


def amount(value: Decimal, currency: str, lang: str) -> str:
    """``value`` in ``currency`` as ``lang`` writes it (see the module docstring)."""
    return format_amount(value, currency, lang)


def date(value: dt.date, lang: str) -> str:
    """``31.01.2026`` in da and nb, ``2026-01-31`` in en; a datetime is shown as its date and
    time (hours and minutes, UTC)."""
    if isinstance(value, dt.datetime):
        moment = value.astimezone(dt.UTC) if value.tzinfo else value
        return f"{date(moment.date(), lang)} {moment:%H:%M} UTC"
    if lang in ("da", "nb"):
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    return value.isoformat()


class Words:
    """The catalogue in one language: ``words("key", name=...)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in CATALOGUE else DEFAULT_LANGUAGE
        self._words = CATALOGUE[self.lang]

    def __call__(self, key: str, /, **values: object) -> str:
        """The text of ``key``, its ``{placeholders}`` filled from ``values``.

        :raises KeyError: no such key: a page asked for a word no language has.
        """
        text = self._words[key]
        return text.format(**values) if values else text
