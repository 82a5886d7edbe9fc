/* The training status line (see status.h). */
#include "train/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/mem.h"
#include "base/progress.h"

int train_status_init(train_status *s, int window, lmc_err *err) {
    s->window = window < 1 ? 1 : window > 100000 ? 100000 : window;
    s->n = s->head = 0;
    s->val_loss = NAN;
    s->val_step = 0;
    s->step_s = calloc((size_t)s->window, sizeof *s->step_s);
    s->wall_s = calloc((size_t)s->window, sizeof *s->wall_s);
    s->loss = calloc((size_t)s->window, sizeof *s->loss);
    if (!s->step_s || !s->wall_s || !s->loss) {
        train_status_free(s);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    return 0;
}

void train_status_free(train_status *s) {
    free(s->step_s);
    free(s->wall_s);
    free(s->loss);
    s->step_s = s->wall_s = s->loss = NULL;
}

void train_status_push(train_status *s, double step_seconds, double wall_seconds, double loss) {
    s->step_s[s->head] = step_seconds;
    s->wall_s[s->head] = wall_seconds;
    s->loss[s->head] = loss;
    s->head = (s->head + 1) % s->window;
    if (s->n < s->window) s->n++;
}

void train_status_val(train_status *s, int64_t step, double val_loss) {
    s->val_step = step;
    s->val_loss = val_loss;
}

train_status_rates train_status_get(const train_status *s, double tok_per_step, double flops_per_token,
                                    double peak_flops) {
    train_status_rates r = {s->n, NAN, NAN, NAN, NAN};
    double step = 0, wall = 0, loss = 0;
    int nl = 0;
    for (int i = 0; i < s->n; i++) {
        step += s->step_s[i];
        wall += s->wall_s[i];
        if (isfinite(s->loss[i])) {
            loss += s->loss[i];
            nl++;
        }
    }
    if (nl) r.loss = loss / nl;
    if (s->n && step > 0) {
        r.tok_per_s = tok_per_step * s->n / step;
        if (peak_flops > 0) r.mfu = flops_per_token * r.tok_per_s / peak_flops;
    }
    if (s->n) r.wall_per_step = wall / s->n;
    return r;
}

void train_status_format(const train_status *s, char *buf, size_t n, int64_t step, int64_t total, double lr,
                         double tok_per_step, double flops_per_token, double peak_flops) {
    train_status_rates r = train_status_get(s, tok_per_step, flops_per_token, peak_flops);
    char val[64] = "", tp[32] = "-", eta[32] = "-", mfu[16] = "-";
    if (s->val_step) snprintf(val, sizeof val, " | val %.4f @%lld", s->val_loss, (long long)s->val_step);
    if (isfinite(r.tok_per_s)) lmc_fmt_count(tp, sizeof tp, r.tok_per_s);
    if (isfinite(r.mfu)) snprintf(mfu, sizeof mfu, "%.1f%%", 100 * r.mfu);
    if (isfinite(r.wall_per_step)) lmc_fmt_duration(eta, sizeof eta, (double)(total - step) * r.wall_per_step);
    snprintf(buf, n, "step %lld/%lld | loss %.4f%s | lr %.3e | %s tok/s | MFU %s | ETA %s | last %d step%s",
             (long long)step, (long long)total, r.loss, val, lr, tp, mfu, eta, r.steps, r.steps == 1 ? "" : "s");
}
