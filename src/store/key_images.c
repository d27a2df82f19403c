/* Key images and the read each was rendered for (and, alike, stored segmentations). A key image shows a
 * patient's slice with a reader's calipers: it is served only to those who may see that read (readers/server
 * checks the owner found here), never to anyone who merely has its URL. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int rcy_store_key_image_add(rcy_store *store, const char *id, const char *subject_id, const char *role,
                            const char *reader, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, "INSERT INTO key_images(id, subject_id, role, reader) VALUES(?,?,?,?)",
                         -1, &st, NULL))
    return rcy_store_fail(store, "recording a key image", err);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, subject_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, reader, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? RCY_OK : rcy_store_fail(store, "recording a key image", err);
}

int rcy_store_key_image_owner(rcy_store_read_key *out, rcy_store *store, const char *id, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, "SELECT subject_id, role, reader FROM key_images WHERE id = ?", -1, &st,
                         NULL))
    return rcy_store_fail(store, "looking a key image up", err);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    snprintf(out->subject_id, sizeof out->subject_id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(out->reader, sizeof out->reader, "%s", (const char *)sqlite3_column_text(st, 2));
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_ROW) return RCY_OK;
  if (rc != SQLITE_DONE) return rcy_store_fail(store, "looking a key image up", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "no such key image");
}

int rcy_store_segmentation_add(rcy_store *store, const char *sop_instance_uid, const char *subject_id,
                               const char *role, const char *reader, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          store->db, "INSERT INTO segmentations(sop_instance_uid, subject_id, role, reader) VALUES(?,?,?,?)",
          -1, &st, NULL))
    return rcy_store_fail(store, "recording a segmentation", err);
  sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, subject_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, reader, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? RCY_OK : rcy_store_fail(store, "recording a segmentation", err);
}

int rcy_store_segmentation_owner(rcy_store_read_key *out, rcy_store *store, const char *sop_instance_uid,
                                 rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT subject_id, role, reader FROM segmentations WHERE sop_instance_uid = ?", -1,
                         &st, NULL))
    return rcy_store_fail(store, "looking a segmentation up", err);
  sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    snprintf(out->subject_id, sizeof out->subject_id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(out->reader, sizeof out->reader, "%s", (const char *)sqlite3_column_text(st, 2));
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_ROW) return RCY_OK;
  if (rc != SQLITE_DONE) return rcy_store_fail(store, "looking a segmentation up", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "no such segmentation");
}

int rcy_store_segmentations_each(rcy_store *store, const char *subject_id, rcy_store_segmentation_fn fn, void *ctx,
                                 rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT sop_instance_uid, role, reader FROM segmentations WHERE subject_id = ? "
                         "ORDER BY sop_instance_uid",
                         -1, &st, NULL))
    return rcy_store_fail(store, "listing segmentations", err);
  sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
  int rc, out = RCY_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    out = fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
             (const char *)sqlite3_column_text(st, 2));
    if (out) break;
  }
  sqlite3_finalize(st);
  if (!out && rc != SQLITE_DONE) return rcy_store_fail(store, "listing segmentations", err);
  return out;
}
