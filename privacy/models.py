"""All models of the privacy app, imported here so that Django registers them under the one app label.

Each sub-package owns its models; migrations still name the upload paths by this module.
"""

from .requests.models import *  # noqa: F403
from .requests.models import mandate_upload_to, package_upload_to  # noqa: F401
from .retention.models import *  # noqa: F403
from .rights.ledger_models import *  # noqa: F403
from .rights.models import *  # noqa: F403
