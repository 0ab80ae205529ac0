# The production tests' Paris, Bamako and world serve the consulates' tests too.
from production.tests.conftest import bamako, paris, world  # noqa: F401
