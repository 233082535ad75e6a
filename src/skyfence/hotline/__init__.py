"""The hotline: tell each party about incidents through its own channels, and make sure it was heard.

Stages in the manner of Alertmanager's notify pipeline, one small module each: ``route`` (which
party and contact), ``group`` (a wait to gather, a repeat interval), ``outbox`` (kept in the store's
database), ``send`` with ``retry`` and a dead letter, ``escalate`` (not acknowledged in time).
"""
