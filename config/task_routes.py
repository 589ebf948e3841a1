def route_task(name, args, kwargs, options, task=None, **kw):
    return None
