// SPDX-License-Identifier: MIT
// Minimal SVG line charts for eval curves (ROC, PR): no dependencies, opens in any browser.
#include <math.h>
#include <stdio.h>

#include "cli/cli.h"

int cli_svg_curves(const char *path, const char *title, const char *xlabel, const char *ylabel,
                   const struct cli_curve *c, int nc, int logx, double xmin, double xmax,
                   double ymin, double ymax) {
    FILE *f = fopen(path, "w");
    if (!f) return fh_fail(FH_E_IO, "%s: cannot write", path);
    const double W = 640, H = 480, L = 70, R = 20, T = 40, B = 60;
    const char *col[6] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    double lx0 = logx ? log10(xmin) : xmin, lx1 = logx ? log10(xmax) : xmax;
#define PX(x) (L + ((logx ? log10(fmax(x, xmin)) : (x)) - lx0) / (lx1 - lx0) * (W - L - R))
#define PY(y) (H - B - ((y) - ymin) / (ymax - ymin) * (H - T - B))
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif' font-size='12'>\n", W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n<text x='%.0f' y='22' font-size='15'>", L);
    for (const char *p = title; *p; p++) fputs(*p == '<' ? "&lt;" : *p == '&' ? "&amp;" : (char[2]){*p, 0}, f);
    fprintf(f, "</text>\n");
    // grid and ticks
    int dec = ymax - ymin < 0.1 ? 3 : 2; // a narrow axis needs a third decimal to tell ticks apart
    for (int i = 0; i <= 10; i++) {
        double y = ymin + (ymax - ymin) * i / 10;
        fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='%.1f' y='%.1f' text-anchor='end'>%.*f</text>\n",
                L, W - R, PY(y), PY(y), L - 6, PY(y) + 4, dec, y);
    }
    if (logx) {
        for (double x = xmin; x <= xmax * 1.0001; x *= 10)
            fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='%.1f' y='%.1f' text-anchor='middle'>%g</text>\n",
                    PX(x), PX(x), T, H - B, PX(x), H - B + 16, x);
    } else {
        for (int i = 0; i <= 10; i++) {
            double x = xmin + (xmax - xmin) * i / 10;
            fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='%.1f' y='%.1f' text-anchor='middle'>%g</text>\n",
                    PX(x), PX(x), T, H - B, PX(x), H - B + 16, x);
        }
    }
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>\n", (L + W - R) / 2, H - 20, xlabel);
    fprintf(f, "<text transform='translate(18,%.1f) rotate(-90)' text-anchor='middle'>%s</text>\n", (T + H - B) / 2, ylabel);
    for (int k = 0; k < nc; k++) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", col[k % 6]);
        for (int i = 0; i < c[k].n; i++)
            if (!logx || c[k].x[i] > 0 || i == 0)
                fprintf(f, "%.1f,%.1f ", PX(c[k].x[i]), PY(fmin(fmax(c[k].y[i], ymin), ymax)));
        fprintf(f, "'/>\n<text x='%.1f' y='%.1f' fill='%s'>%s</text>\n", W - R - 220, H - B - 16 - 16.0 * k, col[k % 6], c[k].label);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
    int bad = ferror(f);
    if (fclose(f) || bad) return fh_fail(FH_E_IO, "%s: write failed", path);
    return FH_OK;
}
