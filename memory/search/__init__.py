"""Finding the memories a question asks for: nearest neighbours within filters and time
windows (`nearest`, `filters`), candidates by meaning and by words (`candidates`), one
score and a calibrated relevance for each (`ranking`), and questions about time alone
answered by conversation (`overview`).
"""
