/* Shared by the report files of src/qa (report_cohort.c, report_subject.c). Not public. */
#ifndef RECISTRY_QA_REPORT_INTERNAL_H
#define RECISTRY_QA_REPORT_INTERNAL_H

#include "recistry/recist.h"
#include "recistry/render.h"

/* printf into a malloc'ed string (NULL when out of memory; rcy_pdf_* take NULL as empty). */
char *rcy_report_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The colour of a response in every plot: CR/PR blue shades, SD green, PD vermillion, NE grey. */
rcy_rgb rcy_report_bor_color(rcy_recist_response r);

#endif
