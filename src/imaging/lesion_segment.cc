// Seeded lesion segmentation (docs/segmentation.md gives the method, its parameters, its accuracy and where
// it fails). In short, on a crop around the click:
//  1. in-plane Gaussian smoothing (along rows and columns; never across slices, which may be 5 mm apart), its width chosen from the noise measured inside the lesion;
//  2. a priority flood from the seed ordered by |value - lesion value| (the minimax path distance): the region
//     within a tolerance w grows slowly while w covers the lesion's own noise and partial-volume edge, then
//     "explodes" into the surrounding tissue. The value of what it floods into is the background; the
//     contrast C = |background - lesion| and its sign say which way the boundary lies;
//  3. the lesion is the region connected to the seed (ITK ConnectedThresholdImageFilter) within
//     [lesion - C, lesion + C/2] towards the background: the boundary sits half-way between lesion and
//     background, where a voxel is half lesion (partial volume), and tissue further away on the other side
//     (fat beyond the liver capsule, air) stays outside;
//  4. a rim: when the flood had to climb much more than C to escape (w > 1.35 C), the seed sits in a core
//     walled by a ring brighter (or darker) than the background — a rim-enhancing metastasis around its
//     necrotic core. The lesion is then the core plus the ring, up to half-way between ring and background;
//  5. holes filled slice by slice (necrosis, calcification), and the contour placed between pixel centres
//     where the smoothed value crosses the boundary level.
// If the result touches the crop's side, the crop grows and it starts again.
#include "lesion_internal.h"

#include <itkConnectedThresholdImageFilter.h>
#include <itkImage.h>
#include <itkImportImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <exception>
#include <new>
#include <vector>
#include <cstdio>
#include <cstdlib>

namespace {

using Image = itk::Image<float, 3>;
using Mask = itk::Image<uint8_t, 3>;

constexpr double kBinHu = 0.5;            // flood tolerance resolution
constexpr double kMaxHu = 3000.0;         // no lesion differs more from its surroundings
constexpr double kExplosion = 2.5;        // region growth factor over a few noise widths that means "escaped"
constexpr double kSmoothingMm[] = {1.0, 1.6, 2.5};
constexpr double kMinCnr = 6.0;           // contrast / smoothed noise wanted before accepting a smoothing
constexpr double kRimShellMm = 8.0;       // how far outside the core a rim is looked for
constexpr size_t kMinVoxels = 6;
constexpr double kFinalSmoothingMm[] = {0.5, 0.8, 1.0, 1.6, 2.5};
constexpr double kFinalCnr = 10.0;        // contrast / smoothed noise wanted on the image the boundary is drawn on
constexpr double kBandMm = 4.0;
constexpr double kMaskSmoothingMm = 0.8;
constexpr double kRingShare = 0.35;           // share of the shell a ring must cover     // the final mask's in-plane smoothing (contour at its half level)           // how far around the first mask the tissues compete for voxels

struct Crop {
  int i0, j0, W, H, K;  // offset in the slab, size
  double sc, sr, sz;
  std::vector<float> raw;
  size_t n() const { return (size_t)W * H * K; }
  size_t at(int i, int j, int k) const { return ((size_t)k * H + j) * W + i; }
};

Image::Pointer to_itk(const std::vector<float> &v, const Crop &c) {
  auto img = Image::New();
  Image::RegionType region;
  Image::SizeType size = {{(itk::SizeValueType)c.W, (itk::SizeValueType)c.H, (itk::SizeValueType)c.K}};
  region.SetSize(size);
  img->SetRegions(region);
  const double spacing[3] = {c.sc, c.sr, c.sz};
  img->SetSpacing(spacing);
  img->Allocate();
  std::copy(v.begin(), v.end(), img->GetBufferPointer());
  return img;
}

// Gaussian of width sigma_mm along rows and columns only: a separable FIR Gaussian truncated at 3 sigma, edges clamped. ITK's RecursiveGaussianImageFilter did the
// same in 70 ms per call on a 117x117x51 crop (its iterators and boundary handling, twice per call); this
// takes a few, and a click smooths four or five times.
std::vector<float> smooth_in_plane(const Crop &c, double sigma_mm) {
  auto kernel = [](double sigma_px, int *r) {
    *r = std::max(1, (int)std::ceil(3.0 * sigma_px));
    std::vector<float> k((size_t)(2 * *r + 1));
    double sum = 0;
    for (int t = -*r; t <= *r; t++) sum += k[(size_t)(t + *r)] = (float)std::exp(-0.5 * t * t / (sigma_px * sigma_px));
    for (float &v : k) v = (float)(v / sum);
    return k;
  };
  int rx, ry;
  const std::vector<float> kx = kernel(sigma_mm / c.sc, &rx), ky = kernel(sigma_mm / c.sr, &ry);
  const int W = c.W, H = c.H;
  std::vector<float> out(c.n()), tmp((size_t)W * H), padded((size_t)(W + 2 * rx));
  for (int k = 0; k < c.K; k++) {
    // Along rows: each row padded by its edge values, then a plain dot product per pixel.
    for (int j = 0; j < H; j++) {
      const float *in = &c.raw[c.at(0, j, k)];
      for (int x = 0; x < W + 2 * rx; x++) padded[(size_t)x] = in[std::min(W - 1, std::max(0, x - rx))];
      float *o = &tmp[(size_t)j * W];
      for (int x = 0; x < W; x++) {
        float acc = 0;
        for (int t = 0; t <= 2 * rx; t++) acc += kx[(size_t)t] * padded[(size_t)(x + t)];
        o[x] = acc;
      }
    }
    // Along columns: whole rows weighted and added (contiguous, vectorised).
    for (int j = 0; j < H; j++) {
      float *o = &out[c.at(0, j, k)];
      std::fill(o, o + W, 0.0f);
      for (int t = -ry; t <= ry; t++) {
        const float w = ky[(size_t)(t + ry)], *row = &tmp[(size_t)std::min(H - 1, std::max(0, j + t)) * W];
        for (int x = 0; x < W; x++) o[x] += w * row[x];
      }
    }
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + m, v.end());
  return v[m];
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  size_t m = std::min(v.size() - 1, (size_t)(q * (double)(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + m, v.end());
  return v[m];
}

// Values in a disc of radius r_mm around (si, sj) on slice sk.
std::vector<double> disc(const std::vector<float> &v, const Crop &c, int si, int sj, int sk, double r_mm) {
  std::vector<double> out;
  int ri = std::max(1, (int)std::ceil(r_mm / c.sc)), rj = std::max(1, (int)std::ceil(r_mm / c.sr));
  for (int j = std::max(0, sj - rj); j <= std::min(c.H - 1, sj + rj); j++)
    for (int i = std::max(0, si - ri); i <= std::min(c.W - 1, si + ri); i++) {
      double dx = (i - si) * c.sc, dy = (j - sj) * c.sr;
      if (dx * dx + dy * dy <= r_mm * r_mm) out.push_back(v[c.at(i, j, sk)]);
    }
  return out;
}

struct Flood {
  std::vector<float> d;  // minimax tolerance at which each voxel joins (INFINITY: not reached)
  double escape = NAN;   // tolerance at which the region escaped into the surroundings
  bool escaped_by_border = false;
};

// Priority flood from the seed over cost |s - lesion| (bucket queue of kBinHu), stopped a little after the
// region escapes: more than kExplosion times larger than a few noise widths before, or reaching the crop's
// side.
Flood flood(const std::vector<float> &s, const Crop &c, int si, int sj, int sk, double lesion, double noise) {
  Flood f;
  f.d.assign(c.n(), INFINITY);
  const int nbins = (int)(kMaxHu / kBinHu) + 1;
  std::vector<std::vector<uint32_t>> bucket(nbins);
  auto bin_of = [&](size_t ix) { return std::min(nbins - 1, (int)(std::fabs(s[ix] - lesion) / kBinHu)); };
  std::vector<uint8_t> queued(c.n(), 0);
  size_t seed = c.at(si, sj, sk);
  bucket[0].push_back((uint32_t)seed);
  queued[seed] = 1;
  std::vector<size_t> count(nbins, 0);  // cumulative region size after each bin
  const double wmin = std::max(3.0 * noise, 4.0), window = std::max(2.0 * noise, 3.0);
  const int kwin = std::max(1, (int)std::lround(window / kBinHu));
  size_t total = 0;
  int escape_bin = -1, stop_bin = nbins;
  // Within a bucket voxels are taken first in, first out, so that at the escape the wall around the region
  // is visited before what lies behind it; once the region is three times what it was, the rest of the crop
  // is not needed.
  size_t cap = SIZE_MAX;
  for (int b = 0; b < nbins && b <= stop_bin && total < cap; b++) {
    bool border = false;
    for (size_t q = 0; q < bucket[b].size() && total < cap; q++) {
      uint32_t ix = bucket[b][q];
      f.d[ix] = (float)(b * kBinHu);
      total++;
      int k = (int)(ix / ((size_t)c.W * c.H)), rem = (int)(ix % ((size_t)c.W * c.H)), j = rem / c.W, i = rem % c.W;
      if (i == 0 || j == 0 || i == c.W - 1 || j == c.H - 1) border = true;
      const int nb[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
      for (const auto &o : nb) {
        int ni = i + o[0], nj = j + o[1], nk = k + o[2];
        if (ni < 0 || nj < 0 || nk < 0 || ni >= c.W || nj >= c.H || nk >= c.K) continue;
        size_t nx = c.at(ni, nj, nk);
        if (queued[nx]) continue;
        queued[nx] = 1;
        bucket[std::max(b, bin_of(nx))].push_back((uint32_t)nx);
      }
    }
    std::vector<uint32_t>().swap(bucket[b]);
    count[b] = total;
    if (escape_bin < 0) {
      double w = b * kBinHu;
      size_t before = b >= kwin ? count[b - kwin] : 0;
      bool exploded = w >= wmin + window && before > 0 && (double)total >= kExplosion * (double)before && total - before >= 30;
      if (exploded || border) {
        escape_bin = b;
        f.escaped_by_border = border && !exploded;
        stop_bin = b + kwin;
        cap = 3 * before + 20000;
      }
    }
  }
  if (escape_bin >= 0) f.escape = escape_bin * kBinHu;
  return f;
}

// Fills, slice by slice, the pixels of each slice that cannot reach the crop's side without crossing the mask.
void fill_holes_2d(std::vector<uint8_t> &m, const Crop &c) {
  std::vector<uint8_t> outside((size_t)c.W * c.H);
  std::deque<int> q;
  for (int k = 0; k < c.K; k++) {
    uint8_t *s = &m[c.at(0, 0, k)];
    std::fill(outside.begin(), outside.end(), 0);
    auto push = [&](int i, int j) {
      int ix = j * c.W + i;
      if (!s[ix] && !outside[ix]) outside[ix] = 1, q.push_back(ix);
    };
    for (int i = 0; i < c.W; i++) push(i, 0), push(i, c.H - 1);
    for (int j = 0; j < c.H; j++) push(0, j), push(c.W - 1, j);
    while (!q.empty()) {
      int ix = q.front();
      q.pop_front();
      int i = ix % c.W, j = ix / c.W;
      if (i > 0) push(i - 1, j);
      if (i < c.W - 1) push(i + 1, j);
      if (j > 0) push(i, j - 1);
      if (j < c.H - 1) push(i, j + 1);
    }
    for (size_t ix = 0; ix < outside.size(); ix++)
      if (!outside[ix]) s[ix] = 1;
  }
}

// The 6-connected component of m containing the seed.
std::vector<uint8_t> component(const std::vector<uint8_t> &m, const Crop &c, size_t seed) {
  std::vector<uint8_t> out(c.n(), 0);
  if (!m[seed]) return out;
  std::deque<size_t> q{seed};
  out[seed] = 1;
  while (!q.empty()) {
    size_t ix = q.front();
    q.pop_front();
    int k = (int)(ix / ((size_t)c.W * c.H)), rem = (int)(ix % ((size_t)c.W * c.H)), j = rem / c.W, i = rem % c.W;
    const int nb[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
    for (const auto &o : nb) {
      int ni = i + o[0], nj = j + o[1], nk = k + o[2];
      if (ni < 0 || nj < 0 || nk < 0 || ni >= c.W || nj >= c.H || nk >= c.K) continue;
      size_t nx = c.at(ni, nj, nk);
      if (m[nx] && !out[nx]) out[nx] = 1, q.push_back(nx);
    }
  }
  return out;
}

// In-plane distance (mm) from each voxel to the nearest voxel of m on its slice, up to limit_mm (two-pass
// chamfer; good to a few percent, enough to bound where a rim may be).
std::vector<float> planar_distance(const std::vector<uint8_t> &m, const Crop &c) {
  std::vector<float> d(c.n());
  const float big = 1e9f, a = (float)c.sc, b = (float)c.sr, diag = (float)std::hypot(c.sc, c.sr);
  for (int k = 0; k < c.K; k++) {
    float *s = &d[c.at(0, 0, k)];
    const uint8_t *in = &m[c.at(0, 0, k)];
    for (int ix = 0; ix < c.W * c.H; ix++) s[ix] = in[ix] ? 0.0f : big;
    for (int j = 0; j < c.H; j++)
      for (int i = 0; i < c.W; i++) {
        float &v = s[j * c.W + i];
        if (i > 0) v = std::min(v, s[j * c.W + i - 1] + a);
        if (j > 0) v = std::min(v, s[(j - 1) * c.W + i] + b);
        if (i > 0 && j > 0) v = std::min(v, s[(j - 1) * c.W + i - 1] + diag);
        if (i < c.W - 1 && j > 0) v = std::min(v, s[(j - 1) * c.W + i + 1] + diag);
      }
    for (int j = c.H - 1; j >= 0; j--)
      for (int i = c.W - 1; i >= 0; i--) {
        float &v = s[j * c.W + i];
        if (i < c.W - 1) v = std::min(v, s[j * c.W + i + 1] + a);
        if (j < c.H - 1) v = std::min(v, s[(j + 1) * c.W + i] + b);
        if (i < c.W - 1 && j < c.H - 1) v = std::min(v, s[(j + 1) * c.W + i + 1] + diag);
        if (i > 0 && j < c.H - 1) v = std::min(v, s[(j + 1) * c.W + i - 1] + diag);
      }
  }
  return d;
}

// Seeded region competition (Adams and Bischof's seeded region growing, with one reference value per front):
// the lesion (reference: its value) and every surrounding tissue (reference: the value where its front
// started, kBandMm or more from the first mask) grow together into a band around the first mask, each voxel
// going to the front it differs least from. Each boundary so lands half-way between the lesion and whatever
// touches it — liver, a vessel, the body wall, fat — where a voxel is half lesion.
struct Front {
  uint32_t ix;
  float ref;
  uint8_t lesion;
};

// *contrast and *background receive the mean |reference - lesion| and the median reference of the tissue
// fronts met at the boundary.
void compete(std::vector<uint8_t> &mask, std::vector<float> &level, std::vector<float> &tissue, double *contrast,
             double *background,
             const std::vector<float> &fine, const std::vector<float> &coarse, const Crop &c, double lesion_ref,
             double band_mm) {
  const size_t n = c.n(), plane = (size_t)c.W * c.H;
  // In the band: within band_mm (3-D) of the first mask; beyond it every voxel seeds a background front.
  std::vector<float> pd = planar_distance(mask, c);
  std::vector<uint8_t> band(n, 0);
  const int reach = (int)std::floor(band_mm / c.sz);
  for (int k = 0; k < c.K; k++)
    for (size_t q = 0; q < plane; q++) {
      size_t ix = (size_t)k * plane + q;
      if (mask[ix]) continue;
      for (int dk = -reach; dk <= reach; dk++) {
        int kk = k + dk;
        if (kk < 0 || kk >= c.K) continue;
        double d = pd[(size_t)kk * plane + q], z = dk * c.sz;
        if (d * d + z * z <= band_mm * band_mm) {
          band[ix] = 1;
          break;
        }
      }
    }
  const int nbins = (int)(kMaxHu / kBinHu) + 1;
  std::vector<std::vector<Front>> bucket(nbins);
  std::vector<uint8_t> label(n, 0);  // 0 unassigned (band), 1 lesion, 2 background
  std::vector<float> ref(n, 0.0f);
  for (size_t ix = 0; ix < n; ix++) {
    if (mask[ix]) label[ix] = 1, ref[ix] = (float)lesion_ref;
    else if (!band[ix]) label[ix] = 2, ref[ix] = coarse[ix];
  }
  auto push_neighbours = [&](size_t ix) {
    int k = (int)(ix / plane), rem = (int)(ix % plane), j = rem / c.W, i = rem % c.W;
    const int nb[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
    for (const auto &o : nb) {
      int ni = i + o[0], nj = j + o[1], nk = k + o[2];
      if (ni < 0 || nj < 0 || nk < 0 || ni >= c.W || nj >= c.H || nk >= c.K) continue;
      size_t nx = c.at(ni, nj, nk);
      if (label[nx]) continue;
      int b = std::min(nbins - 1, (int)(std::fabs(fine[nx] - ref[ix]) / kBinHu));
      bucket[b].push_back({(uint32_t)nx, ref[ix], (uint8_t)(label[ix] == 1)});
    }
  };
  for (size_t ix = 0; ix < n; ix++)
    if (label[ix]) {
      // Only fronts that touch the band push.
      int k = (int)(ix / plane), rem = (int)(ix % plane), j = rem / c.W, i = rem % c.W;
      bool edge = (i > 0 && !label[ix - 1]) || (i < c.W - 1 && !label[ix + 1]) || (j > 0 && !label[ix - c.W]) ||
                  (j < c.H - 1 && !label[ix + c.W]) || (k > 0 && !label[ix - plane]) || (k < c.K - 1 && !label[ix + plane]);
      if (edge) push_neighbours(ix);
    }
  for (int b = 0; b < nbins; b++)
    for (size_t q = 0; q < bucket[b].size(); q++) {
      Front f = bucket[b][q];
      if (label[f.ix]) continue;
      label[f.ix] = f.lesion ? 1 : 2;
      ref[f.ix] = f.ref;
      push_neighbours(f.ix);
    }
  std::vector<double> met;
  for (size_t ix = 0; ix < n; ix++) {
    if (label[ix] != 2) continue;
    int k = (int)(ix / plane), rem = (int)(ix % plane), j = rem / c.W, i = rem % c.W;
    bool touches = (i > 0 && label[ix - 1] == 1) || (i < c.W - 1 && label[ix + 1] == 1) ||
                   (j > 0 && label[ix - c.W] == 1) || (j < c.H - 1 && label[ix + c.W] == 1) ||
                   (k > 0 && label[ix - plane] == 1) || (k < c.K - 1 && label[ix + plane] == 1);
    if (touches) met.push_back(ref[ix]);
  }
  double sum = 0;
  for (double v : met) sum += std::fabs(v - lesion_ref);
  *contrast = met.empty() ? 0.0 : sum / (double)met.size();
  *background = met.empty() ? lesion_ref : median(met);
  // The mask, a level field placing the boundary between pixel centres (positive where a voxel is nearer the
  // lesion's value than the neighbouring tissue's), and each voxel's neighbouring tissue value (NaN deep inside).
  tissue.assign(n, NAN);
  for (size_t ix = 0; ix < n; ix++) {
    mask[ix] = label[ix] == 1;
    if (!band[ix] && !mask[ix]) {
      level[ix] = -1.0f;
      continue;
    }
    double bg = ref[ix];
    if (label[ix] == 1) {  // a lesion voxel: the reference of a background neighbour, if any
      bg = NAN;
      int k = (int)(ix / plane), rem = (int)(ix % plane), j = rem / c.W, i = rem % c.W;
      const int nb[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
      for (const auto &o : nb) {
        int ni = i + o[0], nj = j + o[1];
        if (ni < 0 || nj < 0 || ni >= c.W || nj >= c.H) continue;
        size_t nx = c.at(ni, nj, k);
        if (label[nx] == 2) bg = ref[nx];
      }
      if (std::isnan(bg)) {
        level[ix] = 1.0f;
        continue;
      }
    }
    tissue[ix] = (float)bg;
    double span = std::max(1.0, std::fabs(bg - lesion_ref));
    level[ix] = (float)std::min(1.0, std::max(-1.0, (std::fabs(fine[ix] - bg) - std::fabs(fine[ix] - lesion_ref)) / span));
    if ((level[ix] > 0) != (label[ix] == 1)) level[ix] = label[ix] == 1 ? 0.01f : -0.01f;  // the competition decides the side
  }
}

struct Result {
  double pv_voxels = -1;  // partial-volume corrected voxel count (-1: count the mask)
  std::vector<uint8_t> mask;
  std::vector<float> level;
  double lesion, background, boundary, smoothing;
  bool rim;
};

// The volume in voxels, partial volume included: a voxel on the boundary (inside with a neighbour outside, or
// outside with a neighbour inside, along rows, columns or slices) counts the fraction of lesion its value says
// it holds, between the lesion's value and its neighbouring tissue's; every other voxel counts 1 inside, 0
// outside. On 5 mm slices a lesion's top and bottom slices are mostly partial voxels: counting them whole or
// not at all misses the volume by tens of percent on a 1 cm lesion.
double partial_volume(const std::vector<uint8_t> &mask, const std::vector<float> &fine, const std::vector<float> &tissue,
                      const Crop &c, double lesion) {
  const size_t plane = (size_t)c.W * c.H;
  double sum = 0;
  for (size_t ix = 0; ix < c.n(); ix++) {
    int k = (int)(ix / plane), rem = (int)(ix % plane), j = rem / c.W, i = rem % c.W;
    bool in = mask[ix] != 0;
    bool edge = (i > 0 && (mask[ix - 1] != 0) != in) || (i < c.W - 1 && (mask[ix + 1] != 0) != in) ||
                (j > 0 && (mask[ix - c.W] != 0) != in) || (j < c.H - 1 && (mask[ix + c.W] != 0) != in) ||
                (k > 0 && (mask[ix - plane] != 0) != in) || (k < c.K - 1 && (mask[ix + plane] != 0) != in);
    double t = tissue[ix];
    if (!edge || std::isnan(t) || std::fabs(t - lesion) < 1.0) {
      sum += in;
      continue;
    }
    // Unclamped within [-0.5, 1.5]: noise then averages out instead of biasing the sum.
    sum += std::min(1.5, std::max(-0.5, (t - fine[ix]) / (t - lesion)));
  }
  return sum;
}

// Is the core walled by a ring — an enhancing rim around a necrotic core? Compares the shell just outside the
// core (up to 4 mm) with the tissue further out (7 to 11 mm): a ring differs from that tissue, on the far
// side from the core's value, over most of the shell. *host and *ring_excess receive the tissue's value and
// the ring's excess over it.
bool find_ring(double *host, double *ring_excess, const std::vector<float> &s, const std::vector<uint8_t> &core,
               const Crop &c, double lesion, double noise) {
  std::vector<float> dist = planar_distance(core, c);
  std::vector<double> far;
  for (size_t q = 0; q < c.n(); q++)
    if (dist[q] > 7.0 && dist[q] <= 11.0) far.push_back(s[q]);
  if (far.empty()) return false;
  *host = median(far);
  const double p = *host > lesion ? 1.0 : -1.0;
  std::vector<double> near;
  for (size_t q = 0; q < c.n(); q++)
    if (!core[q] && dist[q] <= 4.0) near.push_back(p * (s[q] - *host));
  if (near.empty()) return false;
  *ring_excess = quantile(near, 0.9);
  size_t beyond = 0;
  for (double e : near) beyond += e > *ring_excess / 2;
  return *ring_excess > std::max(4.0 * noise, 0.25 * std::fabs(*host - lesion)) &&
         (double)beyond >= kRingShare * (double)near.size();
}

int segment_crop(Result &r, const Crop &c, int si, int sj, int sk, rcy_error *err) {
  // Noise inside the lesion, robustly (median absolute deviation), from the raw values around the click.
  std::vector<double> around = disc(c.raw, c, si, sj, sk, 2.5);
  double med = median(around);
  std::vector<double> dev;
  for (double v : around) dev.push_back(std::fabs(v - med));
  const double noise_raw = 1.4826 * median(dev);
  const double dx = 0.5 * (c.sc + c.sr);
  const size_t seed = c.at(si, sj, sk);
  const bool debug = getenv("RCY_SEGMENT_DEBUG") != nullptr;
  for (size_t attempt = 0; attempt < sizeof kSmoothingMm / sizeof kSmoothingMm[0]; attempt++) {
    const double sigma = kSmoothingMm[attempt];
    const bool last = attempt + 1 == sizeof kSmoothingMm / sizeof kSmoothingMm[0];
    std::vector<float> s = smooth_in_plane(c, sigma);
    // Smoothed noise: a 2-D Gaussian of sigma (in pixels) divides white noise by 2 sqrt(pi) sigma.
    const double noise = noise_raw / (2.0 * std::sqrt(M_PI) * (sigma / dx));
    const double lesion = median(disc(s, c, si, sj, sk, 2.0));
    Flood f = flood(s, c, si, sj, sk, lesion, noise);
    if (std::isnan(f.escape)) return rcy_error_set(err, RCY_ENOTFOUND, "no lesion boundary found around the click");
    // What stopped the region: the "wall", voxels that joined at the escape and whose own difference from
    // the lesion is the escape tolerance (the most similar tissue the lesion touches).
    const double window = std::max(2.0 * noise, 3.0);
    std::vector<double> wall;
    for (size_t q = 0; q < c.n(); q++) {
      if (!std::isfinite(f.d[q]) || f.d[q] < f.escape - window) continue;
      double own = std::fabs(s[q] - lesion);
      if (own >= f.escape - window && own <= f.escape + 3 * window) wall.push_back(s[q]);
    }
    const double wall_value = wall.empty() ? lesion : median(wall), wall_contrast = std::fabs(wall_value - lesion);
    if (debug)
      fprintf(stderr, "segment: sigma %.1f noise %.1f (raw %.1f) lesion %.1f escape %.1f%s wall %.1f (%zu voxels)\n", sigma,
              noise, noise_raw, lesion, f.escape, f.escaped_by_border ? " (crop side)" : "", wall_value, wall.size());
    // More smoothing when the lesion barely differs from what stopped it — unless the region escaped along a
    // path to the crop's side (the partial volume of an oblique liver capsule): that path is a leak, not
    // what surrounds the lesion, and its contrast says nothing about the noise the smoothing must beat.
    if (wall_contrast < kMinCnr * noise && !last && !f.escaped_by_border) continue;
    // The core: the region well inside the lesion, before the escape and at most half-way to the wall
    // (ITK ConnectedThresholdImageFilter from the click).
    const double w0 = std::max(std::min(f.escape - window, wall_contrast / 2), std::min(2.0 * noise, f.escape / 2));
    using CT = itk::ConnectedThresholdImageFilter<Image, Mask>;
    auto ct = CT::New();
    ct->SetInput(to_itk(s, c));
    ct->SetLower((float)(lesion - w0));
    ct->SetUpper((float)(lesion + w0));
    ct->SetReplaceValue(1);
    ct->SetNumberOfWorkUnits(1);
    ct->AddSeed(Mask::IndexType{{si, sj, sk}});
    ct->Update();
    const uint8_t *m = ct->GetOutput()->GetBufferPointer();
    std::vector<uint8_t> core(m, m + c.n());
    fill_holes_2d(core, c);
    double host = NAN, ring = 0;
    r.rim = find_ring(&host, &ring, s, core, c, lesion, noise);
    r.lesion = lesion, r.smoothing = sigma;
    r.level.assign(c.n(), 0.0f);
    double boundary_contrast;
    std::vector<float> tissue, fine_image;
    if (r.rim) {
      // The core and the ring up to half-way between the ring's value and the tissue's, within kRimShellMm.
      const double p = host > lesion ? 1.0 : -1.0;
      std::vector<float> dist = planar_distance(core, c);
      r.mask.assign(c.n(), 0);
      for (size_t q = 0; q < c.n(); q++)
        r.mask[q] = core[q] || (dist[q] <= kRimShellMm && p * (s[q] - host) > ring / 2);
      fill_holes_2d(r.mask, c);
      r.mask = component(r.mask, c, seed);
      r.background = host;
      r.boundary = host + p * ring / 2;
      boundary_contrast = ring;
    } else {
      // Every boundary by competition, on the least smoothed image whose noise the contrast clears well.
      double fine_sigma = kFinalSmoothingMm[sizeof kFinalSmoothingMm / sizeof kFinalSmoothingMm[0] - 1];
      // The contrast that matters is the lesion's against what surrounds most of it (the tissue 7-11 mm out),
      // not against the most similar tissue it touches somewhere.
      const double around = std::max(wall_contrast, std::isnan(host) ? 0.0 : std::fabs(host - lesion));
      for (double fs : kFinalSmoothingMm)
        if (std::max(around, 5.0) >= kFinalCnr * noise_raw / (2.0 * std::sqrt(M_PI) * (fs / dx))) {
          fine_sigma = fs;
          break;
        }
      std::vector<float> fine = fine_sigma == sigma ? s : smooth_in_plane(c, fine_sigma);
      double lesion_fine = median(disc(fine, c, si, sj, sk, 2.0));
      r.mask = core;
      compete(r.mask, r.level, tissue, &boundary_contrast, &r.background, fine, s, c, lesion_fine,
              std::max(kBandMm, 1.2 * c.sz));
      fine_image.swap(fine);
      r.lesion = lesion_fine;
      r.boundary = (lesion_fine + r.background) / 2;
      fill_holes_2d(r.mask, c);
      r.mask = component(r.mask, c, seed);
    }
    if (debug)
      fprintf(stderr, "segment: core w %.1f, rim %d (host %.1f, ring %.1f), boundary contrast %.1f\n", w0, (int)r.rim,
              host, ring, boundary_contrast);
    if (boundary_contrast < 3.0 * noise || boundary_contrast < 5.0) {
      if (!last) continue;
      return rcy_error_set(err, RCY_ENOTFOUND,
                           "nothing stands out around the click: %.0f of contrast against %.0f of noise: click "
                           "inside a lesion, or measure it by hand",
                           boundary_contrast, noise);
    }
    // Noise leaves the boundary ragged by a pixel, and a longest diameter picks the worst of it: the contour
    // is drawn on the level field smoothed in-plane (the mask's, or for a competed boundary the sub-pixel
    // field saying how much nearer the lesion than its neighbour each voxel is), which removes the raggedness
    // and keeps where the boundary lies.
    Crop mc = c;
    if (r.rim)
      mc.raw.assign(r.mask.begin(), r.mask.end());
    else
      mc.raw = r.level;
    std::vector<float> sm = smooth_in_plane(mc, kMaskSmoothingMm);
    for (size_t q = 0; q < c.n(); q++) {
      r.level[q] = r.rim ? (float)(2.0 * (sm[q] - 0.5)) : sm[q];
      r.mask[q] = r.level[q] > 0;
    }
    fill_holes_2d(r.mask, c);
    r.mask = component(r.mask, c, seed);
    if (!r.rim) r.pv_voxels = partial_volume(r.mask, fine_image, tissue, c, r.lesion);
    size_t n = 0;
    for (uint8_t v : r.mask) n += v;
    if (n < kMinVoxels)
      return rcy_error_set(err, RCY_ENOTFOUND, "the region around the click is only %zu voxels: click inside the lesion", n);
    return RCY_OK;
  }
  return rcy_error_set(err, RCY_ENOTFOUND, "no lesion boundary found around the click");
}

bool touches_side(const std::vector<uint8_t> &m, const Crop &c) {
  for (int k = 0; k < c.K; k++)
    for (int j = 0; j < c.H; j++)
      for (int i = 0; i < c.W; i += (j == 0 || j == c.H - 1) ? 1 : c.W - 1)
        if (m[c.at(i, j, k)]) return true;
  return false;
}

int segment(rcy_imaging_lesion *out, const rcy_imaging_slab *slab, const double seed[3], rcy_error *err) {
  const int si = (int)std::lround(seed[0]), sj = (int)std::lround(seed[1]), sk = (int)std::lround(seed[2]);
  if (si < 0 || sj < 0 || sk < 0 || si >= slab->columns || sj >= slab->rows || sk >= slab->slices)
    return rcy_error_set(err, RCY_EINVAL, "the click (%g, %g) on slice %g lies outside the %dx%dx%d images", seed[0],
                         seed[1], seed[2], slab->columns, slab->rows, slab->slices);
  // Crops of +-35 mm (or 1.3 times the expected radius and 8 mm), then twice that, then the whole slab, until the lesion does not touch the crop's side.
  const double first = std::max(35.0, 1.3 * slab->expected_radius_mm + 8.0);
  const double halves_mm[] = {first, 2 * first, 1e9};
  Result r;
  Crop c;
  for (double half : halves_mm) {
    int hi = (int)std::min<double>(slab->columns, std::ceil(half / slab->spacing_mm[0]));
    int hj = (int)std::min<double>(slab->rows, std::ceil(half / slab->spacing_mm[1]));
    c.i0 = std::max(0, si - hi), c.j0 = std::max(0, sj - hj);
    c.W = std::min(slab->columns, si + hi + 1) - c.i0;
    c.H = std::min(slab->rows, sj + hj + 1) - c.j0;
    c.K = slab->slices;
    c.sc = slab->spacing_mm[0], c.sr = slab->spacing_mm[1], c.sz = slab->spacing_mm[2];
    c.raw.resize(c.n());
    for (int k = 0; k < c.K; k++)
      for (int j = 0; j < c.H; j++)
        std::memcpy(&c.raw[c.at(0, j, k)],
                    slab->planes[k] + (size_t)(c.j0 + j) * slab->columns + c.i0,
                    sizeof(float) * c.W);
    if (getenv("RCY_SEGMENT_DEBUG"))
      fprintf(stderr, "segment: crop %dx%dx%d (half %.0f mm, expected radius %.1f mm)\n", c.W, c.H, c.K, half,
              slab->expected_radius_mm);
    int rc = segment_crop(r, c, si - c.i0, sj - c.j0, sk, err);
    if (rc) return rc;
    bool whole = c.W == slab->columns && c.H == slab->rows;
    if (!touches_side(r.mask, c) || whole) break;
  }
  out->lesion_value = r.lesion;
  out->background_value = r.background;
  out->boundary_level = r.boundary;
  out->smoothing_mm = r.smoothing;
  out->rim = r.rim;
  // Measured on the crop, then moved into the slab's frame.
  rcy_imaging_slab cs = {c.W, c.H, c.K, {c.sc, c.sr, c.sz}, nullptr, 0};
  int rc = rcy_lesion::measure(out, &cs, r.mask.data(), r.level.data(), err);
  if (rc) return rc;
  if (r.pv_voxels >= 0) out->volume_ml = r.pv_voxels * c.sc * c.sr * c.sz / 1000.0;
  for (size_t q = 0; q < out->n_contours; q++)
    for (size_t p = 0; p < out->contours[q].n; p++) {
      out->contours[q].points[2 * p] += c.i0;
      out->contours[q].points[2 * p + 1] += c.j0;
    }
  double *ends[] = {out->long_p1, out->long_p2, out->short_p1, out->short_p2};
  for (double *e : ends) e[0] += c.i0, e[1] += c.j0;
  out->mask = (uint8_t *)calloc((size_t)slab->columns * slab->rows * slab->slices, 1);
  if (!out->mask) throw std::bad_alloc();
  for (int k = 0; k < c.K; k++)
    for (int j = 0; j < c.H; j++)
      std::memcpy(out->mask + ((size_t)k * slab->rows + (c.j0 + j)) * slab->columns + c.i0, &r.mask[c.at(0, j, k)],
                  c.W);
  // The slab's side: its first or last slice, or the crop's side where the crop reaches the slab's.
  out->touches_border = out->first_slice == 0 || out->last_slice == c.K - 1;
  for (int k = 0; k < c.K && !out->touches_border; k++)
    for (int j = 0; j < c.H && !out->touches_border; j++)
      for (int i = 0; i < c.W; i++) {
        bool side = (i == 0 && c.i0 == 0) || (j == 0 && c.j0 == 0) || (i == c.W - 1 && c.i0 + c.W == slab->columns) ||
                    (j == c.H - 1 && c.j0 + c.H == slab->rows);
        if (side && r.mask[c.at(i, j, k)]) {
          out->touches_border = 1;
          break;
        }
      }
  return RCY_OK;
}

}  // namespace

extern "C" int rcy_imaging_segment_lesion(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const double seed[3],
                                          rcy_error *err) {
  if (!out || !slab || !slab->planes || !seed || slab->columns <= 0 || slab->rows <= 0 || slab->slices <= 0 ||
      !(slab->spacing_mm[0] > 0) || !(slab->spacing_mm[1] > 0) || !(slab->spacing_mm[2] > 0))
    return rcy_error_set(err, RCY_EINVAL, "segment: no images, or images without a pixel and slice spacing");
  if ((size_t)slab->columns * slab->rows * slab->slices >= (size_t)UINT32_MAX)
    return rcy_error_set(err, RCY_EINVAL, "segment: a slab of %dx%dx%d is too large", slab->columns, slab->rows,
                         slab->slices);
  *out = nullptr;
  rcy_imaging_lesion *l = (rcy_imaging_lesion *)calloc(1, sizeof *l);
  if (!l) return rcy_error_set(err, RCY_ENOMEM, "out of memory segmenting");
  try {
    int rc = segment(l, slab, seed, err);
    if (rc) {
      rcy_imaging_lesion_free(l);
      return rc;
    }
    *out = l;
    return RCY_OK;
  } catch (const std::bad_alloc &) {
    rcy_imaging_lesion_free(l);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory segmenting");
  } catch (const itk::ExceptionObject &e) {
    rcy_imaging_lesion_free(l);
    return rcy_error_set(err, RCY_EINTERNAL, "segmenting: ITK: %s", e.GetDescription());
  } catch (const std::exception &e) {
    rcy_imaging_lesion_free(l);
    return rcy_error_set(err, RCY_EINTERNAL, "segmenting: %s", e.what());
  } catch (...) {
    rcy_imaging_lesion_free(l);
    return rcy_error_set(err, RCY_EINTERNAL, "segmenting: unknown exception");
  }
}

extern "C" double rcy_imaging_lesion_radius(const float *plane, int columns, int rows, const double spacing_mm[2],
                                            const double seed[2]) {
  try {
    const int si = (int)std::lround(seed[0]), sj = (int)std::lround(seed[1]);
    if (!plane || si < 0 || sj < 0 || si >= columns || sj >= rows || !(spacing_mm[0] > 0) || !(spacing_mm[1] > 0))
      return 0;
    Crop c;
    const double half = 80.0;
    int hi = (int)std::ceil(half / spacing_mm[0]), hj = (int)std::ceil(half / spacing_mm[1]);
    c.i0 = std::max(0, si - hi), c.j0 = std::max(0, sj - hj);
    c.W = std::min(columns, si + hi + 1) - c.i0, c.H = std::min(rows, sj + hj + 1) - c.j0, c.K = 1;
    c.sc = spacing_mm[0], c.sr = spacing_mm[1], c.sz = 1.0;
    c.raw.resize(c.n());
    for (int j = 0; j < c.H; j++)
      std::memcpy(&c.raw[c.at(0, j, 0)], plane + (size_t)(c.j0 + j) * columns + c.i0, sizeof(float) * c.W);
    const int ci = si - c.i0, cj = sj - c.j0;
    std::vector<double> around = disc(c.raw, c, ci, cj, 0, 2.5), dev;
    double med = median(around);
    for (double v : around) dev.push_back(std::fabs(v - med));
    const double dx = 0.5 * (c.sc + c.sr), sigma = 1.6;
    const double noise = 1.4826 * median(dev) / (2.0 * std::sqrt(M_PI) * (sigma / dx));
    std::vector<float> s = smooth_in_plane(c, sigma);
    Flood f = flood(s, c, ci, cj, 0, median(disc(s, c, ci, cj, 0, 2.0)), noise);
    if (std::isnan(f.escape)) return 0;
    const double window = std::max(2.0 * noise, 3.0);
    size_t n = 0;
    for (float d : f.d) n += d <= f.escape - window;
    return std::sqrt((double)n * c.sc * c.sr / M_PI);
  } catch (...) {
    return 0;
  }
}
