"""The paperwork: the documents of the mediation file (卷宗) and the legal-aid papers, generated from the case.

``kinds`` says which documents exist and when each is available; ``mediation`` and ``legal_aid`` build each
one as a list of blocks (``blocks``) from the record as it stands; ``render`` turns blocks into an A4 PDF
(Typst, ``typst/document.typ``) or a DOCX for editing (python-docx); ``service`` numbers, versions, keeps
and audits what is handed out. docs/DOCUMENTS.md lists each document, its legal basis and its fields' sources.
"""
