from .selectors import register_list


def user_registers(request):
    """Expose the registers the signed-in user may see, for the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_registers": []}
    # A callable: the template calls it only if the page renders the header,
    # and views that already hold the list pass it instead.
    return {"user_registers": lambda: register_list(user=user)}
