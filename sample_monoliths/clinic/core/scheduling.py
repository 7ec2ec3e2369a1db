"""
Availability of clinicians and rooms.

Pure-ish helpers used by the booking code in ``core.services`` and by the
slot finder of the kiosk API. All times handed in are aware datetimes; shift
hours are stored as local wall-clock times, so we convert before comparing.
"""

import datetime as dt

from django.utils import timezone

from core.exceptions import SchedulingConflict
from core.models import Appointment, Room, RoomReservation, Shift
from core.utils import clinic_setting, day_bounds, ensure_aware, overlaps


def end_time_for(appointment_type, starts_at):
    """When an appointment of ``appointment_type`` starting at ``starts_at`` ends."""
    return starts_at + dt.timedelta(minutes=appointment_type.duration_minutes)


def is_on_shift(staff, starts_at, ends_at):
    """True when one of the staff member's shifts covers the whole span."""
    local_start = timezone.localtime(starts_at)
    local_end = timezone.localtime(ends_at)
    shifts = Shift.objects.filter(staff=staff, weekday=local_start.weekday())
    return any(shift.covers(local_start, local_end) for shift in shifts)


def clinician_conflicts(staff, starts_at, ends_at, exclude=None):
    """Open appointments of ``staff`` (as clinician or assistant) in the span."""
    booked = Appointment.objects.active().overlapping(starts_at, ends_at)
    own = booked.filter(clinician=staff)
    assisting = booked.filter(appointmentstaff__staff=staff)
    conflicts = (own | assisting).distinct()
    if exclude is not None:
        conflicts = conflicts.exclude(pk=exclude.pk)
    return conflicts


def patient_conflicts(patient, starts_at, ends_at, exclude=None):
    """Open appointments of the patient in the span (no double booking)."""
    conflicts = Appointment.objects.active().overlapping(starts_at, ends_at).filter(patient=patient)
    if exclude is not None:
        conflicts = conflicts.exclude(pk=exclude.pk)
    return conflicts


def room_is_free(room, starts_at, ends_at, exclude_appointment=None):
    """True when no active reservation of ``room`` overlaps the span."""
    reservations = RoomReservation.objects.filter(
        room=room, released_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_appointment is not None:
        reservations = reservations.exclude(appointment=exclude_appointment)
    return not reservations.exists()


def find_free_room(kind, starts_at, ends_at, department=None, exclude_appointment=None):
    """
    First active room of ``kind`` free for the span, preferring ``department``.

    Returns ``None`` when every room of that kind is taken.
    """
    rooms = Room.objects.filter(kind=kind, is_active=True).order_by("number")
    candidates = list(rooms)
    if department is not None:
        candidates.sort(key=lambda room: room.department_id != department.id)
    for room in candidates:
        if room_is_free(room, starts_at, ends_at, exclude_appointment=exclude_appointment):
            return room
    return None


def check_clinician_available(staff, starts_at, ends_at, exclude=None):
    """Raise :class:`SchedulingConflict` unless the clinician can take the span."""
    if not staff.is_active:
        raise SchedulingConflict(f"{staff} is no longer active")
    if not is_on_shift(staff, starts_at, ends_at):
        raise SchedulingConflict(
            f"{staff} is not on shift at {timezone.localtime(starts_at):%a %H:%M}",
            clinician=staff.pk,
        )
    if clinician_conflicts(staff, starts_at, ends_at, exclude=exclude).exists():
        raise SchedulingConflict(f"{staff} already has an appointment then", clinician=staff.pk)


def reserve_room(room, appointment, purpose=""):
    """Hold ``room`` for the appointment's time span."""
    if not room_is_free(room, appointment.starts_at, appointment.ends_at, exclude_appointment=appointment):
        raise SchedulingConflict(f"{room} is already reserved then", room=room.number)
    reservation, _ = RoomReservation.objects.update_or_create(
        appointment=appointment,
        defaults={
            "room": room,
            "starts_at": appointment.starts_at,
            "ends_at": appointment.ends_at,
            "purpose": purpose or appointment.appointment_type.name,
            "released_at": None,
        },
    )
    return reservation


def release_room(appointment):
    """Free the room held for the appointment, if any. Returns True when released."""
    updated = RoomReservation.objects.filter(
        appointment=appointment, released_at__isnull=True
    ).update(released_at=timezone.now())
    return bool(updated)


def available_slots(staff, day, appointment_type, now=None):
    """
    Start times on ``day`` at which ``staff`` could see a patient.

    Slots step by ``SLOT_MINUTES`` through each shift; a slot is offered when
    the clinician is free and a room of the needed kind is free too.
    """
    now = now or timezone.now()
    step = dt.timedelta(minutes=clinic_setting("SLOT_MINUTES", 15))
    duration = dt.timedelta(minutes=appointment_type.duration_minutes)
    day_start, day_end = day_bounds(day)
    busy = [
        (appt.starts_at, appt.ends_at)
        for appt in Appointment.objects.active()
        .overlapping(day_start, day_end)
        .filter(clinician=staff)
    ]
    slots = []
    for shift in Shift.objects.filter(staff=staff, weekday=day.weekday()):
        cursor = ensure_aware(dt.datetime.combine(day, shift.starts))
        shift_end = ensure_aware(dt.datetime.combine(day, shift.ends))
        while cursor + duration <= shift_end:
            end = cursor + duration
            if cursor > now and not any(overlaps(cursor, end, b_start, b_end) for b_start, b_end in busy):
                if find_free_room(appointment_type.room_kind, cursor, end) is not None:
                    slots.append(cursor)
            cursor += step
    return slots


def day_schedule(day, clinician=None):
    """Appointments of a day (optionally of one clinician) with their rooms."""
    appointments = (
        Appointment.objects.on_day(day)
        .exclude(status=Appointment.CANCELLED)
        .select_related("patient", "clinician__user", "room", "appointment_type")
        .order_by("starts_at")
    )
    if clinician is not None:
        appointments = appointments.filter(clinician=clinician)
    return list(appointments)


def room_occupancy(day):
    """Minutes each room is reserved on ``day``: ``{room_number: minutes}``."""
    start, end = day_bounds(day)
    occupancy = {}
    reservations = RoomReservation.objects.filter(
        released_at__isnull=True, starts_at__lt=end, ends_at__gt=start
    ).select_related("room")
    for reservation in reservations:
        span = min(reservation.ends_at, end) - max(reservation.starts_at, start)
        occupancy[reservation.room.number] = occupancy.get(reservation.room.number, 0) + int(
            span.total_seconds() // 60
        )
    return occupancy
