from .selectors import register_list


def user_registers(request):
    """Expose the registers the signed-in user may see, for the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_registers": []}
    return {"user_registers": register_list(user=user)}
