# The reference side of tests/integration/endpoints_r.sh (and the R timing of scripts/bench/endpoints):
# R's survival::survfit / summary / survdiff, binom.test and quantile(type = 7) on the same data recistry's
# endpoints saw. Prints "key<TAB>value" lines (NA for a value R leaves out) that endpoints_compare.py
# matches with recistry's JSON.
#   Rscript endpoints_check.R survival.csv rates.csv dpr.csv          (check)
#   Rscript endpoints_check.R survival.csv rates.csv dpr.csv OUT ...  (check several cohorts in one R, each
#                                                                     into its OUT: R and survival take
#                                                                     seconds of CPU to start)
#   Rscript endpoints_check.R --bench survival.csv                    (wall and CPU seconds of survfit + survdiff)
suppressPackageStartupMessages(library(survival))
args <- commandArgs(TRUE)
ends <- c("os", "pfs", "hpfs")
ind_order <- c("first_line", "consolidation", "intensification", "salvage", "ablation_combination", "other")

if (args[1] == "--bench") {
  d <- read.csv(args[2], stringsAsFactors = FALSE)
  t0 <- proc.time()
  for (e in ends) {
    tt <- d[[paste0(e, "_t")]]; ee <- d[[paste0(e, "_e")]]; g <- factor(d$indication)
    f <- survfit(Surv(tt, ee) ~ 1); s <- summary(f)$table
    for (lv in levels(g)) { f2 <- survfit(Surv(tt[g == lv], ee[g == lv]) ~ 1); s2 <- summary(f2)$table }
    sd <- survdiff(Surv(tt, ee) ~ g)
  }
  dt <- proc.time() - t0  # wall, then CPU (user + sys)
  cat(sprintf("%.6f %.6f\n", dt[["elapsed"]], dt[["user.self"]] + dt[["sys.self"]]))
  quit(save = "no")
}

check <- function(survival_csv, rates_csv, dpr_csv) {
  d <- read.csv(survival_csv, stringsAsFactors = FALSE)
  rates <- read.csv(rates_csv, stringsAsFactors = FALSE)
  dpr <- read.csv(dpr_csv, stringsAsFactors = FALSE)
  out <- function(k, v) cat(k, "\t", if (is.na(v)) "NA" else if (is.infinite(v)) "Inf" else sprintf("%.17g", v), "\n", sep = "")

  groups <- c("all", ind_order[ind_order %in% d$indication])
  for (g in groups) {
    s <- if (g == "all") d else d[d$indication == g, ]
    for (e in ends) {
      key <- paste(g, e, sep = "/")
      f <- survfit(Surv(s[[paste0(e, "_t")]], s[[paste0(e, "_e")]]) ~ 1)
      out(paste0(key, "/n"), f$n)
      out(paste0(key, "/events"), sum(f$n.event))
      for (i in seq_along(f$time)) {
        k <- paste0(key, "/curve/", i - 1)
        out(paste0(k, "/t"), f$time[i]); out(paste0(k, "/n_risk"), f$n.risk[i])
        out(paste0(k, "/n_event"), f$n.event[i]); out(paste0(k, "/n_censor"), f$n.censor[i])
        out(paste0(k, "/surv"), f$surv[i]); out(paste0(k, "/std_err"), f$std.err[i])
        out(paste0(k, "/lower"), f$lower[i]); out(paste0(k, "/upper"), f$upper[i])
      }
      tb <- summary(f)$table
      out(paste0(key, "/median"), tb[["median"]])
      out(paste0(key, "/median_lower"), tb[["0.95LCL"]])
      out(paste0(key, "/median_upper"), tb[["0.95UCL"]])
      lm <- c(182.625, 365.25, 730.5)
      sm <- tryCatch(summary(f, times = lm), error = function(e) list(time = numeric(0)))  # all after the end
      for (j in seq_along(lm)) {
        k <- paste0(key, "/landmark/", j - 1)
        hit <- which(abs(sm$time - lm[j]) < 1e-9)
        if (length(hit)) {
          out(paste0(k, "/surv"), sm$surv[hit]); out(paste0(k, "/lower"), sm$lower[hit])
          out(paste0(k, "/upper"), sm$upper[hit]); out(paste0(k, "/n_risk"), sm$n.risk[hit])
        } else out(paste0(k, "/surv"), NA)
      }
    }
    x <- dpr$dpr[if (g == "all") TRUE else dpr$indication == g]
    q <- if (length(x)) quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE) else c(NA, NA, NA)
    out(paste0(g, "/dpr/q1"), q[1]); out(paste0(g, "/dpr/median"), q[2]); out(paste0(g, "/dpr/q3"), q[3])
    x <- dpr$ttn[if (g == "all") TRUE else dpr$indication == g]
    q <- if (length(x)) quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE) else c(NA, NA, NA)
    out(paste0(g, "/ttn/q1"), q[1]); out(paste0(g, "/ttn/median"), q[2]); out(paste0(g, "/ttn/q3"), q[3])
  }
  for (i in seq_len(nrow(rates))) {
    r <- rates[i, ]
    k <- paste(r$group, r$rate, sep = "/")
    if (r$n > 0) {
      ci <- binom.test(r$count, r$n)$conf.int
      out(paste0(k, "/lower"), 100 * ci[1]); out(paste0(k, "/upper"), 100 * ci[2])
    }
  }
  if (length(unique(d$indication)) > 1) for (e in ends) {
    sd <- survdiff(Surv(d[[paste0(e, "_t")]], d[[paste0(e, "_e")]]) ~ factor(d$indication))
    df <- sum(sd$exp > 0) - 1
    out(paste0("logrank/", e, "/chisq"), sd$chisq); out(paste0("logrank/", e, "/df"), df)
    out(paste0("logrank/", e, "/p"), pchisq(sd$chisq, df, lower.tail = FALSE))
  }
}

if (length(args) == 3) {
  check(args[1], args[2], args[3])
} else {
  stopifnot(length(args) %% 4 == 0)
  for (i in seq(1, length(args), by = 4)) {
    sink(args[i + 3])
    check(args[i], args[i + 1], args[i + 2])
    sink()
  }
}
