"""Imports every domain's tables so the metadata is complete (migrations, tests)."""

from shopwindow.accounts import models as _accounts  # noqa: F401
from shopwindow.analytics import models as _analytics  # noqa: F401
from shopwindow.db.base import Base
from shopwindow.interests import labels_models as _labels  # noqa: F401
from shopwindow.interests import models as _interests  # noqa: F401
from shopwindow.ledger import models as _ledger  # noqa: F401
from shopwindow.media import models as _media  # noqa: F401
from shopwindow.notifications import models as _notifications  # noqa: F401
from shopwindow.outbox import events as _outbox  # noqa: F401
from shopwindow.partners import models as _partners  # noqa: F401
from shopwindow.showcase import models as _showcase  # noqa: F401
from shopwindow.social import models as _social  # noqa: F401
from shopwindow.tracking import models as _tracking  # noqa: F401

metadata = Base.metadata
