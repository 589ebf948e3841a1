"""Numbers that run from 1 each year without gaps (DSR-2026-000123, DOC-2026-000045): one counter row per year,
locked for the increment, so that numbers stay unique and gapless however many requests arrive at once."""


def year_counter_next(counter_model, *, year: int) -> int:
    """Return the next number of `year` from a model with the fields `year` (primary key) and `last`."""
    counter_model.objects.bulk_create([counter_model(year=year)], ignore_conflicts=True)
    counter = counter_model.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last
