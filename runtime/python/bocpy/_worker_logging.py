"""Logging from behaviors follows the main interpreter's logging set-up.

A worker's root logger gets one handler that forwards each record (already
formatted to its message) to the main interpreter, where ``deliver`` hands it
to the logger of the same name: the program's own handlers, formatters and
filters apply, as they do to records made on main. Worker loggers take the
main loggers' levels at ``start()``, so filtered records never cross.
"""

import logging

from bocpy import _core


def main_levels():
    """[(name, level)] of the main interpreter's loggers with a level set ('' is root)."""
    levels = [("", logging.getLogger().level)]
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels.append((name, logger.level))
    return levels


class _ForwardHandler(logging.Handler):
    def emit(self, record):
        try:
            exc_text = record.exc_text
            if record.exc_info and not exc_text:
                exc_text = logging.Formatter().formatException(record.exc_info)
            _core._forward_log(record.name, record.levelno, record.pathname, record.lineno, record.funcName,
                               record.getMessage(), exc_text, record.stack_info, record.created,
                               record.threadName)
        except Exception:
            self.handleError(record)


def install(levels):
    """Runs in a worker: forward every enabled record to main."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ForwardHandler())
    for name, level in levels:
        logging.getLogger(name or None).setLevel(level)


def deliver(name, levelno, pathname, lineno, func, msg, exc_text, stack_info, created, thread_name):
    """Runs on main: emit a worker's record through main's logger `name`."""
    logger = logging.getLogger(name or None)
    record = logger.makeRecord(logger.name, levelno, pathname, lineno, msg, None, None, func, None, stack_info)
    record.exc_text = exc_text
    record.created = created
    record.msecs = (created - int(created)) * 1000
    record.threadName = thread_name
    logger.handle(record)
