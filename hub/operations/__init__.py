"""The operations layer: everything a person or a job can do, one function each."""
