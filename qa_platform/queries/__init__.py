"""Read models (查询): what a page, a report or ``qa … show`` displays, one module per view.

Queries only read; every change goes through a command in ``qa_platform.services`` or
``scoring.services``.
"""
