"""Legal-aid applications (Legal Aid Law 2021) and the 京津冀 通办 hand-over to the competent centre."""
