"""Personal data over time: the retention period after which parties' data is erased, and the requests of one
person (PIPL arts. 45 and 47) to receive a copy of their data and to have it erased."""
