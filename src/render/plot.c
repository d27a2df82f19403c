/* Plots for the PDF reports: axes with "nice" ticks, lines, step curves with censor marks, bars, horizontal
 * spans (swimmer lanes), reference lines, a legend and a number-at-risk table, drawn with cairo into the
 * report's page (rcy_pdf_plot). What the series mean is the caller's (src/qa/report.c). */
#include "recistry/render.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

/* A tick step of 1, 2 or 5 × 10^k giving about `want` intervals over span. */
static double nice_step(double span, int want) {
  if (!(span > 0)) return 1;
  double raw = span / want, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void fmt_tick(char *buf, size_t size, double v, double step) {
  if (fabs(v) < step * 1e-9) v = 0;
  if (step >= 1) snprintf(buf, size, "%.0f", v);
  else if (step >= 0.1) snprintf(buf, size, "%.1f", v);
  else snprintf(buf, size, "%.2f", v);
}

static void set_rgb(cairo_t *cr, rcy_rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

static void data_range(const rcy_plot *p, double *x0, double *x1, double *y0, double *y1) {
  double ax = INFINITY, bx = -INFINITY, ay = INFINITY, by = -INFINITY;
  for (size_t s = 0; s < p->n_series; s++) {
    const rcy_plot_series *se = &p->series[s];
    for (size_t i = 0; i < se->n; i++) {
      if (isfinite(se->x[i])) ax = fmin(ax, se->x[i]), bx = fmax(bx, se->x[i]);
      if (se->x0 && isfinite(se->x0[i])) ax = fmin(ax, se->x0[i]);
      if (isfinite(se->y[i])) ay = fmin(ay, se->y[i]), by = fmax(by, se->y[i]);
      if (se->kind == RCY_PLOT_BARS) ay = fmin(ay, 0), by = fmax(by, 0);
    }
  }
  for (size_t r = 0; r < p->n_rules; r++) {
    if (p->rules[r].vertical) ax = fmin(ax, p->rules[r].value), bx = fmax(bx, p->rules[r].value);
    else ay = fmin(ay, p->rules[r].value), by = fmax(by, p->rules[r].value);
  }
  if (!isfinite(ax)) ax = 0, bx = 1;
  if (!isfinite(ay)) ay = 0, by = 1;
  if (bx <= ax) bx = ax + 1;
  if (by <= ay) by = ay + 1;
  double my = (by - ay) * 0.06, mx = (bx - ax) * 0.04; /* markers at the extremes stay whole */
  *x0 = isnan(p->x_min) ? ax - mx : p->x_min;
  *x1 = isnan(p->x_max) ? bx + mx : p->x_max;
  *y0 = isnan(p->y_min) ? ay - my : p->y_min;
  *y1 = isnan(p->y_max) ? by + my : p->y_max;
}

static void marker(cairo_t *cr, double x, double y, double r) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, x, y, r, 0, 2 * M_PI);
  cairo_fill(cr);
}

void rcy_pdf_plot(rcy_pdf *pdf, const rcy_plot *p, double height) {
  rcy_pdf_picture_row_end(pdf);
  cairo_t *cr = pdf->cr;
  const double title_h = p->title ? 16 : 0, risk_row = 10;
  double risk_h = p->n_risk ? 14 + risk_row * (p->n_risk + 1) : 0;
  double legend_h = 0;
  /* legend rows: entries laid out left to right, wrapping */
  rcy_pdf_font(cr, 7.5, 0);
  double width = rcy_pdf_width(pdf);
  if (p->n_legend) {
    double lx = 0;
    legend_h = 11;
    for (size_t i = 0; i < p->n_legend; i++) {
      double w = 14 + rcy_pdf_text_width(cr, p->legend[i].label) + 12;
      if (lx > 0 && lx + w > width) lx = 0, legend_h += 11;
      lx += w;
    }
    legend_h += 4;
  }
  rcy_pdf_need(pdf, title_h + height + legend_h + risk_h + 8);
  double top = pdf->y;
  if (p->title) {
    double size = 10;
    rcy_pdf_font(cr, size, 1);
    while (size > 6.5 && rcy_pdf_text_width(cr, p->title) > width) rcy_pdf_font(cr, size -= 0.5, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    rcy_pdf_text_at(cr, pdf->margin, top + 11, 0, p->title);
  }
  /* the frame: room for the y tick labels and axis title on the left, x ticks and title below */
  double fx = pdf->margin + (p->risk ? 100 : 44), fy = top + title_h + 4;
  double fw = pdf->margin + width - fx - 6, fh = height - 4 - 30;
  double x0, x1, y0, y1;
  data_range(p, &x0, &x1, &y0, &y1);
  double xs = p->x_step > 0 ? p->x_step : nice_step(x1 - x0, 8), ys = nice_step(y1 - y0, 6);
#define PX(v) (fx + ((v) - x0) / (x1 - x0) * fw)
#define PY(v) (fy + fh - ((v) - y0) / (y1 - y0) * fh)
  /* grid and ticks */
  cairo_set_line_width(cr, 0.3);
  rcy_pdf_font(cr, 7.5, 0);
  char buf[64];
  for (double v = ceil(y0 / ys - 1e-9) * ys; !p->no_y_ticks && v <= y1 + ys * 1e-9; v += ys) {
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, fx, PY(v));
    cairo_line_to(cr, fx + fw, PY(v));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    fmt_tick(buf, sizeof buf, v, ys);
    rcy_pdf_text_at(cr, fx - 3, PY(v) + 2.6, 1, buf);
  }
  if (!p->no_x_ticks)
    for (double v = ceil(x0 / xs - 1e-9) * xs; v <= x1 + xs * 1e-9; v += xs) {
      cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
      cairo_move_to(cr, PX(v), fy);
      cairo_line_to(cr, PX(v), fy + fh);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
      fmt_tick(buf, sizeof buf, v, xs);
      rcy_pdf_text_at(cr, PX(v), fy + fh + 10, 0.5, buf);
    }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 0.7);
  cairo_rectangle(cr, fx, fy, fw, fh);
  cairo_stroke(cr);
  rcy_pdf_font(cr, 8, 0);
  if (p->x_label) rcy_pdf_text_at(cr, fx + fw / 2, fy + fh + 22, 0.5, p->x_label);
  if (p->y_label) {
    cairo_save(cr);
    cairo_translate(cr, pdf->margin + 8, fy + fh / 2);
    cairo_rotate(cr, -M_PI / 2);
    rcy_pdf_text_at(cr, 0, 0, 0.5, p->y_label);
    cairo_restore(cr);
  }

  /* the data, clipped to the frame */
  cairo_save(cr);
  cairo_rectangle(cr, fx, fy, fw, fh);
  cairo_clip(cr);
  size_t points = 0;
  for (size_t r = 0; r < p->n_rules; r++) {
    const rcy_plot_rule *ru = &p->rules[r];
    set_rgb(cr, ru->color);
    cairo_set_line_width(cr, 0.8);
    double dash[] = {4, 3};
    cairo_set_dash(cr, dash, 2, 0);
    if (ru->vertical) cairo_move_to(cr, PX(ru->value), fy), cairo_line_to(cr, PX(ru->value), fy + fh);
    else cairo_move_to(cr, fx, PY(ru->value)), cairo_line_to(cr, fx + fw, PY(ru->value));
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
  }
  for (size_t s = 0; s < p->n_series; s++) {
    const rcy_plot_series *se = &p->series[s];
    points += se->n;
    double lw = se->width > 0 ? se->width : 1.2;
    cairo_set_line_width(cr, lw);
    double dash[] = {3, 2};
    cairo_set_dash(cr, dash, se->dashed ? 2 : 0, 0);
    set_rgb(cr, se->color);
    if (se->kind == RCY_PLOT_LINE || se->kind == RCY_PLOT_STEP) {
      int pen = 0;
      double prev_y = 0;
      for (size_t i = 0; i < se->n; i++) {
        if (!isfinite(se->x[i]) || !isfinite(se->y[i])) {
          pen = 0;
          continue;
        }
        if (!pen) cairo_move_to(cr, PX(se->x[i]), PY(se->y[i]));
        else if (se->kind == RCY_PLOT_STEP) {
          cairo_line_to(cr, PX(se->x[i]), PY(prev_y));
          cairo_line_to(cr, PX(se->x[i]), PY(se->y[i]));
        } else cairo_line_to(cr, PX(se->x[i]), PY(se->y[i]));
        pen = 1;
        prev_y = se->y[i];
      }
      cairo_stroke(cr);
      cairo_set_dash(cr, NULL, 0, 0);
      for (size_t i = 0; i < se->n; i++) {
        if (!isfinite(se->x[i]) || !isfinite(se->y[i])) continue;
        if (se->colors) set_rgb(cr, se->colors[i]);
        if (se->kind == RCY_PLOT_LINE) marker(cr, PX(se->x[i]), PY(se->y[i]), lw + 0.8);
        if (se->marks && se->marks[i]) {
          double x = PX(se->x[i]), y = PY(se->y[i]);
          cairo_set_line_width(cr, 0.8);
          cairo_move_to(cr, x, y - 3), cairo_line_to(cr, x, y + 3);
          cairo_move_to(cr, x - 2, y), cairo_line_to(cr, x + 2, y);
          cairo_stroke(cr);
        }
      }
    } else if (se->kind == RCY_PLOT_POINTS) {
      for (size_t i = 0; i < se->n; i++) {
        if (!isfinite(se->x[i]) || !isfinite(se->y[i])) continue;
        if (se->colors) set_rgb(cr, se->colors[i]);
        marker(cr, PX(se->x[i]), PY(se->y[i]), lw + 0.6);
      }
    } else if (se->kind == RCY_PLOT_BARS) {
      double bw = fw / (x1 - x0) * 0.8;
      for (size_t i = 0; i < se->n; i++) {
        if (!isfinite(se->y[i])) continue;
        if (se->colors) set_rgb(cr, se->colors[i]);
        double a = PY(0), b = PY(se->y[i]);
        cairo_rectangle(cr, PX(se->x[i]) - bw / 2, fmin(a, b), fmax(bw, 0.3), fmax(fabs(b - a), 0.6));
        cairo_fill(cr);
      }
    } else if (se->kind == RCY_PLOT_SPANS) {
      double bh = fmin(fh / (y1 - y0) * 0.6, 10);
      for (size_t i = 0; i < se->n; i++) {
        if (!isfinite(se->x[i]) || !isfinite(se->x0[i])) continue;
        if (se->colors) set_rgb(cr, se->colors[i]);
        cairo_rectangle(cr, PX(se->x0[i]), PY(se->y[i]) - bh / 2, fmax(PX(se->x[i]) - PX(se->x0[i]), 0.5), bh);
        cairo_fill(cr);
      }
    }
    if (se->labels) {
      rcy_pdf_font(cr, 6.5, 0);
      for (size_t i = 0; i < se->n; i++) {
        if (!se->labels[i] || !isfinite(se->x[i]) || !isfinite(se->y[i])) continue;
        set_rgb(cr, se->colors ? se->colors[i] : se->color);
        double x = PX(se->x[i]), y = PY(se->y[i]) - 4;
        /* keep the label inside the frame */
        double w = rcy_pdf_text_width(cr, se->labels[i]);
        double lx = fmin(fmax(x - w / 2, fx + 1), fx + fw - w - 1);
        if (y < fy + 8) y = PY(se->y[i]) + 10;
        rcy_pdf_text_at(cr, lx, y, 0, se->labels[i]);
      }
    }
  }
  cairo_set_dash(cr, NULL, 0, 0);
  /* rule labels last, on a white ground, so that no bar or line hides them */
  rcy_pdf_font(cr, 7, 0);
  for (size_t r = 0; r < p->n_rules; r++) {
    const rcy_plot_rule *ru = &p->rules[r];
    if (!ru->label) continue;
    double w = rcy_pdf_text_width(cr, ru->label);
    double lx = ru->vertical ? PX(ru->value) + 2 : fx + fw - 3 - w, ly = ru->vertical ? fy + 9 : PY(ru->value) - 2.5;
    if (ru->vertical && lx + w > fx + fw) lx = PX(ru->value) - 2 - w;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, lx - 1, ly - 7, w + 2, 9);
    cairo_fill(cr);
    set_rgb(cr, ru->color);
    rcy_pdf_text_at(cr, lx, ly, 0, ru->label);
  }
  cairo_restore(cr);
  if (!points && p->empty_note) {
    rcy_pdf_font(cr, 9, 0);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    rcy_pdf_text_at(cr, fx + fw / 2, fy + fh / 2, 0.5, p->empty_note);
  }

  double y = fy + fh + 30;
  /* legend */
  if (p->n_legend) {
    rcy_pdf_font(cr, 7.5, 0);
    double lx = 0, ly = y + 6;
    for (size_t i = 0; i < p->n_legend; i++) {
      double w = 14 + rcy_pdf_text_width(cr, p->legend[i].label) + 12;
      if (lx > 0 && lx + w > width) lx = 0, ly += 11;
      set_rgb(cr, p->legend[i].color);
      cairo_rectangle(cr, pdf->margin + lx, ly - 6, 10, 7);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      rcy_pdf_text_at(cr, pdf->margin + lx + 14, ly, 0, p->legend[i].label);
      lx += w;
    }
    y += legend_h;
  }
  /* number at risk at each x tick */
  if (p->n_risk) {
    rcy_pdf_font(cr, 7.5, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    rcy_pdf_text_at(cr, pdf->margin, y + 10, 0, "Number at risk");
    y += 10 + risk_row;
    rcy_pdf_font(cr, 7, 0);
    for (size_t r = 0; r < p->n_risk; r++) {
      const rcy_plot_risk_row *rr = &p->risk[r];
      set_rgb(cr, rr->color);
      char label[24];
      snprintf(label, sizeof label, "%.20s", rr->label);
      rcy_pdf_text_at(cr, pdf->margin, y, 0, label);
      for (double v = ceil(x0 / xs - 1e-9) * xs; v <= x1 + xs * 1e-9; v += xs) {
        /* subjects with time ≥ v: n at the first curve time ≥ v */
        size_t n = 0;
        if (v <= 0) n = rr->n_start;
        else
          for (size_t i = 0; i < rr->n; i++)
            if (rr->t[i] >= v) {
              n = rr->n_at[i];
              break;
            }
        snprintf(buf, sizeof buf, "%zu", n);
        rcy_pdf_text_at(cr, PX(v), y, 0.5, buf);
      }
      y += risk_row;
    }
  }
#undef PX
#undef PY
  cairo_set_source_rgb(cr, 0, 0, 0);
  pdf->y = y + 8;
}
