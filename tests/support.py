"""Helpers shared by tests that need real threads or other processes."""

import threading

from django.db import connection


def run_together(functions, *, timeout: float = 120) -> list:
    """Run the functions in threads released at the same instant (a barrier), each with its
    own database connection; returns what each returned or the exception it raised."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return results


def database_url() -> str:
    """A DATABASE_URL for another process to reach the test database (TCP or socket)."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    port = db["PORT"] or db["OPTIONS"].get("port", "")
    query = f"host={host}" + (f"&port={port}" if port else "")
    return f"postgresql://{credentials}@/{db['NAME']}?{query}"
