/* DICOM attribute matching shared by the query services (C-FIND in src/ingest/qr.c, QIDO-RS in
 * src/dicomweb/qido.c): one implementation of PS3.4 C.2.2.2.4 wildcard matching, so both answer a query
 * alike. */
#ifndef RECISTRY_MATCH_H
#define RECISTRY_MATCH_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when s matches pat: '*' any run of characters (also none), '?' exactly one; case-sensitive.
 * Linear in |pat| x |s| whatever the pattern: a query's key never costs exponential time. */
int rcy_wildcard_match(const char *pat, const char *s);

#ifdef __cplusplus
}
#endif
#endif
