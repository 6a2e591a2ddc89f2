"""Enough open files for thousands of connections: each concurrent user holds one socket.

Every socket is a file descriptor, and a process may open only RLIMIT_NOFILE of them: the soft
limit, which the process itself may raise up to the hard limit. Many systems start programs with
a soft limit of 1,024 (macOS: 256), so 2,000 users would fail with "Too many open files" long
before the service under test is busy. Windows has no such limit for sockets.
"""

from __future__ import annotations

try:
    import resource
except ImportError:  # Windows
    resource = None

SPARE = 64  # files the process has open anyway: the interpreter, the kernel's pipes, a log


def ensure_open_files(sockets: int) -> int:
    """Raise the soft limit of open files to fit `sockets` more (never above the hard limit); return it.

    Raises OSError, saying what to do, if the hard limit itself is too low.
    """
    if resource is None:
        return sockets + SPARE
    needed = sockets + SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise OSError(f"{sockets} connections need about {needed} open files, but this system allows this process "
                      f"at most {hard} (the hard RLIMIT_NOFILE); raise it (`ulimit -Hn`, as root) or use fewer users")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
