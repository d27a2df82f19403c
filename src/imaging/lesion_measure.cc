// Mask measurement: a lesion mask (and optionally a level field that places its boundary between pixel
// centres) becomes contours per slice (marching squares), the RECIST 1.1 diameters and the volume.
//   long axis   the longest in-plane diameter over all slices: the largest distance between two contour
//               points of one slice (exact on the convex hull of the slice's contour points);
//   short axis  on that slice, the longest chord perpendicular to the long axis: the outer extent of the
//               contours along a line perpendicular to the long axis, maximised over the line's position
//               (the extent is piecewise linear in the position, so its maximum is at a contour vertex);
//   volume      voxels x voxel volume, in mL.
// Millimetres come from the slab's spacing; points go back in image coordinates (pixel centres at integers).
#include "lesion_internal.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <unordered_map>
#include <vector>

namespace rcy_lesion {
namespace {

struct Pt {
  double x, y;  // image coordinates
};

// Marching squares on one slice of a padded level field (positive inside). Returns closed loops.
std::vector<std::vector<Pt>> slice_contours(const std::vector<float> &L, int W, int H, int i0, int i1, int j0,
                                            int j1) {
  // Cells span pixel centres (i, j)..(i+1, j+1) for i in [i0-1, i1], j in [j0-1, j1]; outside the box the
  // level is negative, so every loop closes.
  auto at = [&](int i, int j) -> float {
    if (i < i0 || i > i1 || j < j0 || j > j1) return -1.0f;
    return L[(size_t)j * W + i];
  };
  (void)H;
  const long GW = (long)(i1 - i0 + 3);  // edge-id grid width
  auto hid = [&](int i, int j) { return 2 * ((long)(j - j0 + 1) * GW + (i - i0 + 1)); };     // (i,j)-(i+1,j)
  auto vid = [&](int i, int j) { return 2 * ((long)(j - j0 + 1) * GW + (i - i0 + 1)) + 1; }; // (i,j)-(i,j+1)
  std::unordered_map<long, Pt> point;
  std::unordered_map<long, std::pair<long, long>> link;  // edge id -> its two neighbours along the contour
  auto interp = [](float a, float b) { return (double)a / ((double)a - (double)b); };
  auto edge_point = [&](long id, int i, int j, bool horizontal, float a, float b) {
    if (point.count(id)) return;
    double t = interp(a, b);
    point[id] = horizontal ? Pt{i + t, (double)j} : Pt{(double)i, j + t};
  };
  auto connect = [&](long a, long b) {
    auto add = [&](long from, long to) {
      auto it = link.find(from);
      if (it == link.end())
        link[from] = {to, -1};
      else
        it->second.second = to;
    };
    add(a, b);
    add(b, a);
  };
  for (int j = j0 - 1; j <= j1; j++)
    for (int i = i0 - 1; i <= i1; i++) {
      float a = at(i, j), b = at(i + 1, j), c = at(i + 1, j + 1), d = at(i, j + 1);
      int code = (a > 0) | ((b > 0) << 1) | ((c > 0) << 2) | ((d > 0) << 3);
      if (code == 0 || code == 15) continue;
      long top = hid(i, j), bottom = hid(i, j + 1), left = vid(i, j), right = vid(i + 1, j);
      if ((a > 0) != (b > 0)) edge_point(top, i, j, true, a, b);
      if ((d > 0) != (c > 0)) edge_point(bottom, i, j + 1, true, d, c);
      if ((a > 0) != (d > 0)) edge_point(left, i, j, false, a, d);
      if ((b > 0) != (c > 0)) edge_point(right, i + 1, j, false, b, c);
      float centre = (a + b + c + d) / 4;
      switch (code) {
        case 1: case 14: connect(top, left); break;
        case 2: case 13: connect(top, right); break;
        case 4: case 11: connect(right, bottom); break;
        case 8: case 7: connect(left, bottom); break;
        case 3: case 12: connect(left, right); break;
        case 6: case 9: connect(top, bottom); break;
        case 5:  // a and c inside
          if (centre > 0) { connect(top, right); connect(left, bottom); }
          else { connect(top, left); connect(right, bottom); }
          break;
        case 10:  // b and d inside
          if (centre > 0) { connect(top, left); connect(right, bottom); }
          else { connect(top, right); connect(left, bottom); }
          break;
      }
    }
  std::vector<std::vector<Pt>> loops;
  std::unordered_map<long, bool> seen;
  for (const auto &kv : link) {
    if (seen.count(kv.first)) continue;
    std::vector<Pt> loop;
    long prev = -1, cur = kv.first;
    while (cur >= 0 && !seen.count(cur)) {
      seen[cur] = true;
      loop.push_back(point[cur]);
      const auto &nb = link[cur];
      long next = nb.first != prev ? nb.first : nb.second;
      prev = cur;
      cur = next;
    }
    if (loop.size() >= 3) loops.push_back(std::move(loop));
  }
  // Deterministic order: by first point.
  std::sort(loops.begin(), loops.end(), [](const std::vector<Pt> &a, const std::vector<Pt> &b) {
    return a[0].y != b[0].y ? a[0].y < b[0].y : a[0].x < b[0].x;
  });
  return loops;
}

double cross(const Pt &o, const Pt &a, const Pt &b) { return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x); }

// Convex hull (monotone chain) of points in mm.
std::vector<Pt> hull(std::vector<Pt> p) {
  std::sort(p.begin(), p.end(), [](const Pt &a, const Pt &b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
  if (p.size() < 3) return p;
  std::vector<Pt> h(2 * p.size());
  size_t k = 0;
  for (size_t i = 0; i < p.size(); i++) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) k--;
    h[k++] = p[i];
  }
  for (size_t i = p.size() - 1, t = k + 1; i-- > 0;) {
    while (k >= t && cross(h[k - 2], h[k - 1], p[i]) <= 0) k--;
    h[k++] = p[i];
  }
  h.resize(k - 1);
  return h;
}

}  // namespace

int measure(rcy_imaging_lesion *out, const rcy_imaging_slab *slab, const uint8_t *mask, const float *level,
            rcy_error *err) {
  const int W = slab->columns, H = slab->rows, K = slab->slices;
  const double sc = slab->spacing_mm[0], sr = slab->spacing_mm[1], sz = slab->spacing_mm[2];
  const size_t plane = (size_t)W * H;
  out->voxels = 0;
  out->first_slice = -1;
  out->last_slice = -1;
  out->long_mm = 0;
  out->long_slice = -1;
  std::vector<rcy_imaging_contour> contours;
  std::vector<float> L(plane);
  struct SliceLong {
    int slice;
    size_t voxels;
    double long_mm;
    Pt a, b;
  };
  std::vector<SliceLong> per_slice;
  for (int k = 0; k < K; k++) {
    const uint8_t *m = mask + plane * k;
    int i0 = W, i1 = -1, j0 = H, j1 = -1;
    size_t count = 0;
    for (int j = 0; j < H; j++)
      for (int i = 0; i < W; i++)
        if (m[(size_t)j * W + i]) {
          count++;
          i0 = std::min(i0, i), i1 = std::max(i1, i), j0 = std::min(j0, j), j1 = std::max(j1, j);
        }
    if (!count) continue;
    out->voxels += count;
    if (out->first_slice < 0) out->first_slice = k;
    out->last_slice = k;
    // The level inside the box: the mask decides the side, the field (when given) where between two pixel
    // centres the boundary lies. Magnitudes are kept in [0.02, 1] so that a far pixel does not drag it.
    for (int j = j0; j <= j1; j++)
      for (int i = i0; i <= i1; i++) {
        size_t ix = (size_t)j * W + i;
        bool in = m[ix] != 0;
        double v = level ? level[plane * k + ix] : (in ? 0.5 : -0.5);
        double a = std::min(1.0, std::max(0.02, std::fabs(v)));
        if (in && v <= 0) a = 0.5;   // inside by the mask against the field (filled hole): mid-way
        if (!in && v > 0) a = 0.5;
        L[ix] = (float)(in ? a : -a);
      }
    auto loops = slice_contours(L, W, H, i0, i1, j0, j1);
    std::vector<Pt> all_mm;
    for (const auto &loop : loops) {
      rcy_imaging_contour c;
      c.slice = k;
      c.n = loop.size();
      c.points = (double *)malloc(sizeof(double) * 2 * c.n);
      if (!c.points) throw std::bad_alloc();
      for (size_t q = 0; q < c.n; q++) {
        c.points[2 * q] = loop[q].x;
        c.points[2 * q + 1] = loop[q].y;
        all_mm.push_back({loop[q].x * sc, loop[q].y * sr});
      }
      contours.push_back(c);
    }
    // Longest diameter of this slice.
    std::vector<Pt> h = hull(all_mm);
    double best = 0;
    Pt a{0, 0}, b{0, 0};
    for (size_t p = 0; p < h.size(); p++)
      for (size_t q = p + 1; q < h.size(); q++) {
        double d = std::hypot(h[p].x - h[q].x, h[p].y - h[q].y);
        if (d > best) best = d, a = h[p], b = h[q];
      }
    per_slice.push_back({k, count, best, a, b});
  }
  // The long axis' slice: the longest diameter; among slices within half a pixel of it (a near-round lesion
  // spans several such slices, and which one wins is noise) the one where the lesion is largest, as a reader
  // measures on the slice through the lesion's middle.
  double longest = 0;
  for (const SliceLong &q : per_slice) longest = std::max(longest, q.long_mm);
  const SliceLong *pick = nullptr;
  for (const SliceLong &q : per_slice)
    if (q.long_mm >= longest - 0.5 * std::min(sc, sr) && (!pick || q.voxels > pick->voxels)) pick = &q;
  if (pick) {
    out->long_mm = pick->long_mm;
    out->long_slice = pick->slice;
    out->long_p1[0] = pick->a.x / sc, out->long_p1[1] = pick->a.y / sr;
    out->long_p2[0] = pick->b.x / sc, out->long_p2[1] = pick->b.y / sr;
  }
  out->contours = (rcy_imaging_contour *)malloc(sizeof(rcy_imaging_contour) * (contours.empty() ? 1 : contours.size()));
  if (!out->contours) {
    for (auto &c : contours) free(c.points);
    throw std::bad_alloc();
  }
  if (!contours.empty()) std::memcpy(out->contours, contours.data(), sizeof(rcy_imaging_contour) * contours.size());
  out->n_contours = contours.size();
  if (!out->voxels) return rcy_error_set(err, RCY_ENOTFOUND, "the mask is empty");
  out->volume_ml = (double)out->voxels * sc * sr * sz / 1000.0;

  // Short axis: the longest chord perpendicular to the long axis on the long axis' slice.
  double ux = (out->long_p2[0] - out->long_p1[0]) * sc, uy = (out->long_p2[1] - out->long_p1[1]) * sr;
  double un = std::hypot(ux, uy);
  out->short_mm = 0;
  std::memcpy(out->short_p1, out->long_p1, sizeof out->short_p1);
  std::memcpy(out->short_p2, out->long_p1, sizeof out->short_p2);
  if (un <= 0) return RCY_OK;
  ux /= un, uy /= un;
  double vx = -uy, vy = ux;
  struct Seg {
    double s0, t0, s1, t1;
  };
  std::vector<Seg> segs;
  std::vector<double> stops;
  for (size_t c = 0; c < out->n_contours; c++) {
    const rcy_imaging_contour &ct = out->contours[c];
    if (ct.slice != out->long_slice) continue;
    for (size_t q = 0; q < ct.n; q++) {
      size_t r = (q + 1) % ct.n;
      double x0 = ct.points[2 * q] * sc, y0 = ct.points[2 * q + 1] * sr;
      double x1 = ct.points[2 * r] * sc, y1 = ct.points[2 * r + 1] * sr;
      segs.push_back({x0 * ux + y0 * uy, x0 * vx + y0 * vy, x1 * ux + y1 * uy, x1 * vx + y1 * vy});
      stops.push_back(x0 * ux + y0 * uy);
    }
  }
  for (double s : stops) {
    double tmin = INFINITY, tmax = -INFINITY;
    for (const Seg &g : segs) {
      double lo = std::min(g.s0, g.s1), hi = std::max(g.s0, g.s1);
      if (s < lo || s > hi) continue;
      double t = hi - lo < 1e-12 ? std::max(g.t0, g.t1) : g.t0 + (g.t1 - g.t0) * (s - g.s0) / (g.s1 - g.s0);
      double t2 = hi - lo < 1e-12 ? std::min(g.t0, g.t1) : t;
      tmin = std::min(tmin, t2), tmax = std::max(tmax, t);
    }
    if (tmax - tmin > out->short_mm) {
      out->short_mm = tmax - tmin;
      out->short_p1[0] = (s * ux + tmin * vx) / sc, out->short_p1[1] = (s * uy + tmin * vy) / sr;
      out->short_p2[0] = (s * ux + tmax * vx) / sc, out->short_p2[1] = (s * uy + tmax * vy) / sr;
    }
  }
  return RCY_OK;
}

}  // namespace rcy_lesion

extern "C" void rcy_imaging_lesion_free(rcy_imaging_lesion *lesion) {
  if (!lesion) return;
  for (size_t c = 0; c < lesion->n_contours; c++) free(lesion->contours[c].points);
  free(lesion->contours);
  free(lesion->mask);
  free(lesion);
}

extern "C" int rcy_imaging_measure_mask(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const uint8_t *mask,
                                        const float *level, rcy_error *err) {
  if (!out || !slab || !mask || slab->columns <= 0 || slab->rows <= 0 || slab->slices <= 0)
    return rcy_error_set(err, RCY_EINVAL, "measure mask: no slab or mask");
  *out = nullptr;
  rcy_imaging_lesion *l = (rcy_imaging_lesion *)calloc(1, sizeof *l);
  if (!l) return rcy_error_set(err, RCY_ENOMEM, "out of memory measuring a mask");
  try {
    size_t n = (size_t)slab->columns * slab->rows * slab->slices;
    l->mask = (uint8_t *)malloc(n);
    if (!l->mask) throw std::bad_alloc();
    for (size_t i = 0; i < n; i++) l->mask[i] = mask[i] != 0;
    int rc = rcy_lesion::measure(l, slab, l->mask, level, err);
    if (rc) {
      rcy_imaging_lesion_free(l);
      return rc;
    }
    *out = l;
    return RCY_OK;
  } catch (const std::bad_alloc &) {
    rcy_imaging_lesion_free(l);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory measuring a mask");
  } catch (const std::exception &e) {
    rcy_imaging_lesion_free(l);
    return rcy_error_set(err, RCY_EINTERNAL, "measuring a mask: %s", e.what());
  }
}
