from . import roles
from .access import user_access


def user_registers(request):
    """Expose the registers the signed-in user may see, for the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_registers": []}
    # A callable: the template calls it only if the page renders the header, and views that
    # already hold the list pass it instead. Read from the request's `user_access`: no query of its own.
    return {"user_registers": lambda: user_access(user).links_for(roles.VIEW_DATA)}
