"""The event types of the levensloop process, grouped by the phase they belong to.

fields.py     the field types and vocabularies payloads share
payload.py    Payload, the base of every type, and the control/content split
intake.py     aanmelding, triagebesluit, inclusiebesluit
network.py    netwerkwijziging
plan.py       planwijziging
care.py       signalering, opschaling, afschaling, casusoverleg, monitoringsmoment
closing.py    uitstroom
"""
