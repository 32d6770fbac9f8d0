"""Call recordings to speaker-attributed transcripts with faster-whisper; knows audio, never the database.

Modules: ``models`` (which model directory to load), ``errors``, ``audio`` (decode, split channels, reject bad
input), ``filters`` (drop repetition loops and hallucinations), ``transcribe`` (one recording),
``batch`` (many recordings in parallel), ``results`` (the results, importable without the audio extra).
"""
