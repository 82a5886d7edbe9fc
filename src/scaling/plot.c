/* A hand-written SVG of the runs (loss against non-embedding parameters, log x axis, coloured by
 * FLOPs) and the fitted iso-FLOP curves L(N, C/(6N)) with their compute-optimal points. */
#include "scaling/scaling.h"

#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define W 820.0
#define H 560.0
#define ML 80.0
#define MR 150.0
#define MT 40.0
#define MB 60.0

/* Viridis-like colour ramp through five stops. */
static void ramp(double t, char out[8]) {
    static const double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    double p = t * 4;
    int i = (int)p;
    if (i > 3) i = 3;
    double f = p - i;
    int c[3];
    for (int k = 0; k < 3; k++) c[k] = (int)lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
    snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

typedef struct frame {
    double x0, x1, y0, y1; /* data ranges: log10 N, loss */
} frame;

static double px(const frame *f, double lx) { return ML + (lx - f->x0) / (f->x1 - f->x0) * (W - ML - MR); }
static double py(const frame *f, double y) { return H - MB - (y - f->y0) / (f->y1 - f->y0) * (H - MT - MB); }

static double nice_step(double span) {
    double raw = span / 6, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

int scaling_plot_svg(const char *path, const scaling_runs *r, const scaling_law *law, int n_curves,
                     lmc_err *err) {
    if (r->n == 0) return lmc_errf(err, LMC_EINVAL, "plot: no runs");
    frame f = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    double cmin = INFINITY, cmax = -INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        double lx = log10(r->params[i]);
        if (lx < f.x0) f.x0 = lx;
        if (lx > f.x1) f.x1 = lx;
        if (r->loss[i] < f.y0) f.y0 = r->loss[i];
        if (r->loss[i] > f.y1) f.y1 = r->loss[i];
        if (r->flops[i] < cmin) cmin = r->flops[i];
        if (r->flops[i] > cmax) cmax = r->flops[i];
    }
    double xs = f.x1 - f.x0 > 0 ? f.x1 - f.x0 : 1, ys = f.y1 - f.y0 > 0 ? f.y1 - f.y0 : 0.1;
    f.x0 -= 0.05 * xs; f.x1 += 0.05 * xs;
    f.y0 -= 0.08 * ys; f.y1 += 0.08 * ys;
    double lcmin = log10(cmin), lcmax = log10(cmax), lcs = lcmax - lcmin > 0 ? lcmax - lcmin : 1;

    lmc_atomic w;
    int rc = lmc_atomic_open(&w, path, err);
    if (rc < 0) return rc;
    FILE *o = w.fp;
    fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fprintf(o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(o, "<text x=\"%.1f\" y=\"24\" font-size=\"15\">L(N, D) = %.4g + %.4g/N^%.4f + %.4g/D^%.4f "
               "(%zu runs)</text>\n", ML, law->E, law->A, law->alpha, law->B, law->beta, r->n);
    /* Axes and ticks. */
    fprintf(o, "<g stroke=\"#333\" fill=\"none\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></g>\n",
            ML, MT, W - ML - MR, H - MT - MB);
    for (double t = ceil(f.x0 * 2) / 2; t <= f.x1 + 1e-9; t += 0.5) {
        double X = px(&f, t);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", X, MT, X, H - MB);
        if (fabs(t - round(t)) < 1e-9)
            fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">1e%d</text>\n", X, H - MB + 18, (int)lround(t));
    }
    double st = nice_step(f.y1 - f.y0);
    for (double t = ceil(f.y0 / st) * st; t <= f.y1 + 1e-12; t += st) {
        double Y = py(&f, t);
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, Y, W - MR, Y);
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, Y + 4, t);
    }
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">non-embedding parameters N</text>\n",
            (ML + W - MR) / 2, H - 18);
    fprintf(o, "<text transform=\"translate(20,%.1f) rotate(-90)\" text-anchor=\"middle\">final loss</text>\n",
            (MT + H - MB) / 2);
    fprintf(o, "<clipPath id=\"plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n",
            ML, MT, W - ML - MR, H - MT - MB);
    /* Iso-FLOP curves of the fitted law. */
    scaling_alloc al;
    int have_alloc = scaling_law_alloc(law, &al, NULL) == 0;
    char col[8];
    if (n_curves < 1) n_curves = 1;
    fprintf(o, "<g clip-path=\"url(#plot)\" fill=\"none\" stroke-width=\"1.6\">\n");
    for (int c = 0; c < n_curves; c++) {
        double t = n_curves == 1 ? 0.5 : (double)c / (n_curves - 1);
        double C = pow(10, lcmin + t * lcs);
        ramp(t, col);
        fprintf(o, "<polyline stroke=\"%s\" points=\"", col);
        for (int k = 0; k <= 200; k++) {
            double lx = f.x0 + (f.x1 - f.x0) * k / 200.0;
            double N = pow(10, lx), L = scaling_law_loss(law, N, C / (6 * N));
            double Y = py(&f, L);
            if (!isfinite(Y) || Y < -H) Y = -H;
            if (Y > 2 * H) Y = 2 * H;
            fprintf(o, "%.1f,%.1f ", px(&f, lx), Y);
        }
        fprintf(o, "\"/>\n");
        if (have_alloc) {
            double N, D;
            scaling_optimal(&al, C, &N, &D);
            fprintf(o, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" transform=\"translate(0,-5)\" fill=\"%s\" stroke=\"black\"/>\n",
                    px(&f, log10(N)), py(&f, scaling_law_loss(law, N, D)), col);
        }
    }
    fprintf(o, "</g>\n<g clip-path=\"url(#plot)\" stroke=\"black\" stroke-width=\"0.5\">\n");
    for (size_t i = 0; i < r->n; i++) {
        ramp((log10(r->flops[i]) - lcmin) / lcs, col);
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", px(&f, log10(r->params[i])),
                py(&f, r->loss[i]), col);
    }
    fprintf(o, "</g>\n");
    /* Colour legend: FLOPs. */
    double lx0 = W - MR + 20;
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">FLOPs</text>\n", lx0, MT + 10);
    for (int k = 0; k <= 5; k++) {
        double t = k / 5.0;
        ramp(t, col);
        double Y = MT + 30 + k * 22;
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\" stroke=\"black\" stroke-width=\"0.5\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">%.2g</text>\n", lx0 + 6, Y, col, lx0 + 18, Y + 4, pow(10, lcmin + t * lcs));
    }
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">lines: fitted</text>\n", lx0, MT + 180);
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">iso-FLOP curves</text>\n", lx0, MT + 194);
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">diamonds: N*(C)</text>\n", lx0, MT + 212);
    fprintf(o, "</svg>\n");
    if (ferror(o)) {
        int e = errno;
        lmc_atomic_abort(&w);
        return lmc_errf(err, LMC_EIO, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
    }
    return lmc_atomic_commit(&w, err);
}
