"""After its first request a warm process moves what it has built out of the collector's way, once."""
import gc

from chalicelib.api import middleware


def test_the_first_request_freezes_the_objects_built_so_far_and_later_ones_do_not():
    gc.unfreeze()
    middleware._frozen = False
    try:
        middleware.freeze_once()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        keep = [object() for _ in range(1000)]  # noqa: F841 - new objects, not frozen by a second call
        middleware.freeze_once()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
