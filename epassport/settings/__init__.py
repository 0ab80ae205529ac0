"""Settings of the e-passport Premium portal, by topic, in their reading order. Each module
imports by name what it uses of another (nothing depends on the order of the imports below).

- environment: the environment, DEBUG, the secret key, the hosts;
- apps: the apps and the middleware (each list written once), URLs, templates, the API;
- data: PostgreSQL and Redis;
- tasks: Celery, its queues, faults and time limits, the heartbeat;
- web: languages, static files, the public address, security headers, proxies;
- booking: protection against bots and touts, the waiting room;
- notifications: email, SMS, the push of codes;
- production: the Premium promise, tracking, displaced appointments, personal data;
- staff: logins, lockout, second factor, sessions, API tokens;
- operations: logs and metrics.
"""

# isort: skip_file
from .environment import *  # noqa: F403
from .apps import *  # noqa: F403
from .data import *  # noqa: F403
from .tasks import *  # noqa: F403
from .web import *  # noqa: F403
from .booking import *  # noqa: F403
from .notifications import *  # noqa: F403
from .production import *  # noqa: F403
from .staff import *  # noqa: F403
from .operations import *  # noqa: F403
