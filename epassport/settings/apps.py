"""The apps and the middleware (each list written once, in its order), URLs, templates,
authentication and the API framework."""

from .environment import BASE_DIR

INSTALLED_APPS = [
    # The admin, whose site asks the second factor too (core/admin_apps.py).
    "core.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_countries",
    "csp",
    # The portal, from its bottom layer up (the import contracts of pyproject.toml).
    "core",
    "appointments",
    "production",
    "consulates",
    "demo",
    # Staff logins: lockout (django-axes), second factor (django-otp, TOTP); staff.py.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Request and database figures at /metrics (operations.py).
    "django_prometheus",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every answer.
    "core.headers.ContentSecurityPolicyMiddleware",  # django-csp's, its header built once
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # A NUL byte in the path or the query, a body over the limit: refused before any view.
    "core.early_refusals.EarlyRefusalMiddleware",
    # The public applicant API passes this and the other core.public_api ones straight on.
    "core.public_api.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.public_api.AuthenticationMiddleware",
    # Right after authentication (request.user.is_verified()).
    "core.public_api.OTPMiddleware",
    "core.public_api.MessageMiddleware",
    # Once messages exist: they say why a staff session ended.
    "core.public_api.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last of the libraries', as django-axes' documentation asks.
    "axes.middleware.AxesMiddleware",
    # Only the request figures that the alerts read (core/request_metrics.py: django-
    # prometheus's two middlewares updated twelve metrics per request). Keep it last.
    "core.request_metrics.RequestMetricsMiddleware",
]

ROOT_URLCONF = "epassport.urls"
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:home"
LOGOUT_REDIRECT_URL = "staff:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "epassport.wsgi.application"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked account or address
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.parsers.ContentNegotiation",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-passport Premium API",
    "DESCRIPTION": "Premium e-passport appointments and passport files.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, no third-party request.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "appointments.models.Appointment.Status",
        "OfficeKindEnum": "core.models.Office.Kind",
        "LanguageEnum": "appointments.models.Appointment.Language",
    },
}
