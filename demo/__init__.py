"""Demo data that looks like the real service, loaded by `manage.py seed_demo` (and so by
`make run`). It sits on top of the project: nothing outside this app imports it."""
