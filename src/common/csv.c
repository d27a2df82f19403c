/* CSV reading over libcsv (RFC 4180), with what libcsv leaves to its caller: the byte-order mark, UTF-8
 * validation, and the line each row starts on (libcsv counts no lines, so the input is fed one physical line
 * at a time and a row's first line is the line fed while no row was open). */
#include "recistry/csv.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char **fields;
  size_t n, cap;
  long row_line;
  rcy_csv_row_fn fn;
  void *ctx;
  int stop;   /* the callback's non-zero return */
  int nomem;
} reader;

static void on_field(void *s, size_t len, void *data) {
  reader *r = data;
  if (r->stop || r->nomem) return;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    char **f = realloc(r->fields, cap * sizeof *f);
    if (!f) {
      r->nomem = 1;
      return;
    }
    r->fields = f;
    r->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) {
    r->nomem = 1;
    return;
  }
  if (len) memcpy(copy, s, len);
  copy[len] = '\0';
  r->fields[r->n++] = copy;
}

static void clear_fields(reader *r) {
  for (size_t i = 0; i < r->n; i++) free(r->fields[i]);
  r->n = 0;
}

static void on_row(int terminator, void *data) {
  (void)terminator;
  reader *r = data;
  if (!r->stop && !r->nomem && r->n) r->stop = r->fn(r->ctx, r->row_line, r->n, r->fields);
  clear_fields(r);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one (overlongs, surrogates and code
 * points above U+10FFFF included). */
static size_t utf8_sequence(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t n;
  unsigned int cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (left < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

int rcy_csv_read_buffer(const char *name, const char *data, size_t size, rcy_csv_row_fn fn, void *ctx,
                        rcy_error *err) {
  const unsigned char *p = (const unsigned char *)data;
  if (size >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3, size -= 3;
  long line = 1;
  int blank = 1;
  for (size_t i = 0; i < size;) {
    if (p[i] == 0) return rcy_error_set(err, RCY_EINVAL, "%s line %ld: a NUL byte (not a text file)", name, line);
    size_t n = utf8_sequence(p + i, size - i);
    if (!n) return rcy_error_set(err, RCY_EINVAL, "%s line %ld: not UTF-8 text (byte 0x%02X)", name, line, p[i]);
    if (p[i] == '\n') line++;
    else if (p[i] != '\r' && p[i] != ' ' && p[i] != '\t') blank = 0;
    i += n;
  }
  if (blank) return rcy_error_set(err, RCY_EINVAL, "%s: the file is empty", name);

  struct csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  reader r = {.fn = fn, .ctx = ctx};
  int rc = RCY_OK;
  line = 1;
  for (size_t at = 0; at < size && !r.stop && !r.nomem;) {
    const unsigned char *nl = memchr(p + at, '\n', size - at);
    size_t len = nl ? (size_t)(nl - (p + at)) + 1 : size - at;
    /* pstate 0 is libcsv's ROW_NOT_BEGUN: no row is open, so a row that begins in this chunk begins here. */
    if (parser.pstate == 0 && r.n == 0) r.row_line = line;
    if (csv_parse(&parser, p + at, len, on_field, on_row, &r) != len) {
      rc = rcy_error_set(err, RCY_EINVAL, "%s line %ld: malformed CSV (%s: a quote inside an unquoted field, or "
                         "text after a closing quote)", name, line, csv_strerror(csv_error(&parser)));
      break;
    }
    at += len;
    line++;
  }
  if (!rc && !r.stop && !r.nomem && csv_fini(&parser, on_field, on_row, &r) != 0)
    rc = rcy_error_set(err, RCY_EINVAL, "%s line %ld: a quoted field is not closed", name, r.row_line);
  if (!rc && r.nomem) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory reading %s", name);
  if (!rc && r.stop) rc = r.stop;
  clear_fields(&r);
  free(r.fields);
  csv_free(&parser);
  return rc;
}

int rcy_csv_read_file(const char *path, rcy_csv_row_fn fn, void *ctx, rcy_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return rcy_error_set(err, errno == ENOENT ? RCY_ENOTFOUND : RCY_EIO, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  int rc = buf ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  while (!rc) {
    if (n == cap) {
      if (cap >= RCY_CSV_MAX_BYTES) {
        rc = rcy_error_set(err, RCY_EINVAL, "%s: larger than %u MB", path, RCY_CSV_MAX_BYTES >> 20);
        break;
      }
      char *b = realloc(buf, cap * 2);
      if (!b) {
        rc = rcy_error_set(err, RCY_ENOMEM, "out of memory reading %s", path);
        break;
      }
      buf = b, cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) rc = rcy_error_set(err, RCY_EIO, "%s: read error", path);
      break;
    }
  }
  fclose(f);
  if (!rc) rc = rcy_csv_read_buffer(path, buf, n, fn, ctx, err);
  free(buf);
  return rc;
}
