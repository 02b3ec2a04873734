/* train_logistic — fits the wording check's model for tests/flags/train_wording: per family, a
 * logistic regression of the family's posts against the ordinary ones (L2-regularised, fitted
 * with L-BFGS), on the features a post has, each scaled by 1 / sqrt(their number) as the
 * scanner divides its sum (lib/flags_wording.c). It fits one model per family on every post,
 * and one per family and fold on the posts outside that fold, which score the fold's posts: the
 * scores the thresholds are set on.
 *
 * Input (stdin, whitespace-separated numbers):
 *   families folds features posts min_posts min_features c iterations (all above 0)
 *   then per text: fold labels part count id... (labels: bit f for family f, 0 for ordinary;
 *   part: 1 for a piece of a post given in full too, such as a paragraph, else 0)
 * A feature counts for a fold's model when at least min_posts of its training posts have it
 * (pieces do not count: their post does).
 * Output (stdout):
 *   held POST s... the score of POST by its fold's models, one per family ("none" when fewer than
 *                  min_features of its features have a weight)
 *   weight ID k... the weights of the model fitted on every post, in thousandths, for each
 *                  feature with one that is not 0
 * A weight is rounded to thousandths, as the model file holds it; a score is then what the
 * scanner computes: the sum of the post's nonzero weights over the square root of their number.
 *
 * The same input gives the same output on any x86-64 machine, which train_wording --check
 * relies on: the arithmetic is IEEE +, -, *, / and sqrt in a fixed order, exp and log are
 * written here (libm may choose its code by CPU; the libm calls left, floor, fabs, frexp and
 * ldexp, are exact), every model is fitted by one thread, and there is no fused multiply-add
 * (built with -ffp-contract=off).
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FAMILIES = 8, HISTORY = 10, THREADS = 2 };

struct corpus {
    int families, folds, min_posts, min_features, iterations;
    long features, posts;
    double c;
    int *fold, *labels;
    char *part;
    long *start; /* post p's ids are ids[start[p]] .. ids[start[p + 1] - 1] */
    int *ids;
};

/* One fold's training set (fold -1: every post): the features it keeps, renumbered. */
struct training {
    const struct corpus *cp;
    int fold;
    long *local; /* global id -> local id, -1 when the fold does not keep it */
    long dimension;
    long *rows; /* the training posts */
    long row_count;
    double *scale; /* per post: 1 / sqrt(its kept features) */
};

/* exp and log from +, -, *, / alone, so that every machine computes the same bits. */
static double exp_own(double x)
{
    if (x > 700)
        x = 700;
    if (x < -700)
        x = -700;
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    double k = floor(x * 1.44269504088896338700 + 0.5);
    double r = (x - k * ln2_hi) - k * ln2_lo; /* |r| <= 0.35 */
    double term = 1, sum = 1;
    for (int i = 1; i <= 17; i++) {
        term = term * r / i;
        sum += term;
    }
    return ldexp(sum, (int)k);
}

static double log_own(double y)
{
    int e;
    double m = frexp(y, &e); /* y = m * 2^e, 0.5 <= m < 1 */
    if (m < 0.70710678118654752440) {
        m *= 2;
        e--;
    }
    double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0; /* |s| <= 0.172 */
    for (int i = 1; i <= 31; i += 2) {
        sum += term / i;
        term *= s2;
    }
    return 2 * sum + e * 0.69314718055994530942;
}

/* log(1 + exp(x)) without overflow */
static double softplus(double x)
{
    return (x > 0 ? x : 0) + log_own(1 + exp_own(-fabs(x)));
}

static double sigmoid(double x)
{
    if (x >= 0)
        return 1 / (1 + exp_own(-x));
    double e = exp_own(x);
    return e / (1 + e);
}

static void *checked(void *p)
{
    if (!p) {
        fputs("train_logistic: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void training_init(struct training *t, const struct corpus *cp, int fold)
{
    memset(t, 0, sizeof *t);
    t->cp = cp;
    t->fold = fold;
    long *df = checked(calloc((size_t)cp->features, sizeof *df));
    t->rows = checked(calloc((size_t)cp->posts, sizeof *t->rows));
    for (long p = 0; p < cp->posts; p++) {
        if (cp->fold[p] == fold)
            continue;
        t->rows[t->row_count++] = p;
        for (long i = cp->start[p]; !cp->part[p] && i < cp->start[p + 1]; i++)
            df[cp->ids[i]]++;
    }
    t->local = checked(malloc((size_t)cp->features * sizeof *t->local));
    for (long f = 0; f < cp->features; f++)
        t->local[f] = df[f] >= cp->min_posts ? t->dimension++ : -1;
    free(df);
    t->scale = checked(calloc((size_t)cp->posts, sizeof *t->scale));
    for (long p = 0; p < cp->posts; p++) {
        long n = 0;
        for (long i = cp->start[p]; i < cp->start[p + 1]; i++)
            n += t->local[cp->ids[i]] >= 0;
        t->scale[p] = n ? 1 / sqrt((double)n) : 0;
    }
}

static void training_free(struct training *t)
{
    free(t->local);
    free(t->rows);
    free(t->scale);
}

/* The objective for one family: the summed log loss plus |w|^2 / (2c), the bias (w[dimension])
 * not regularised. Returns its value; fills the gradient. */
static double objective(const struct training *t, const long *rows, long row_count,
                        const char *target, const double *w, double *gradient)
{
    const struct corpus *cp = t->cp;
    long d = t->dimension;
    double value = 0;
    for (long j = 0; j < d; j++) {
        value += w[j] * w[j] / (2 * cp->c);
        gradient[j] = w[j] / cp->c;
    }
    gradient[d] = 0;
    for (long r = 0; r < row_count; r++) {
        long p = rows[r];
        double z = 0;
        for (long i = cp->start[p]; i < cp->start[p + 1]; i++) {
            long j = t->local[cp->ids[i]];
            if (j >= 0)
                z += w[j];
        }
        z = z * t->scale[p] + w[d];
        value += target[r] ? softplus(-z) : softplus(z);
        double residual = sigmoid(z) - target[r], step = residual * t->scale[p];
        for (long i = cp->start[p]; i < cp->start[p + 1]; i++) {
            long j = t->local[cp->ids[i]];
            if (j >= 0)
                gradient[j] += step;
        }
        gradient[d] += residual;
    }
    return value;
}

static double dot(const double *a, const double *b, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* L-BFGS with a backtracking (Armijo) line search, for cp->iterations steps at most. */
static double *fit(const struct training *t, int family)
{
    const struct corpus *cp = t->cp;
    long n = t->dimension + 1, row_count = 0;
    long *rows = checked(malloc((size_t)t->row_count * sizeof *rows));
    char *target = checked(malloc((size_t)t->row_count));
    for (long r = 0; r < t->row_count; r++) {
        int labels = cp->labels[t->rows[r]];
        if (labels == 0 || labels & (1 << family)) {
            target[row_count] = (labels & (1 << family)) != 0;
            rows[row_count++] = t->rows[r];
        }
    }
    double *w = checked(calloc((size_t)n, sizeof *w)), *g = checked(calloc((size_t)n, sizeof *g));
    double *next = checked(calloc((size_t)n, sizeof *next));
    double *next_g = checked(calloc((size_t)n, sizeof *next_g));
    double *direction = checked(calloc((size_t)n, sizeof *direction));
    double *s = checked(calloc((size_t)(HISTORY * n), sizeof *s));
    double *y = checked(calloc((size_t)(HISTORY * n), sizeof *y));
    double rho[HISTORY], alpha[HISTORY];
    int stored = 0, newest = -1;
    double value = objective(t, rows, row_count, target, w, g);
    for (int it = 0; it < cp->iterations; it++) {
        double largest = 0;
        for (long j = 0; j < n; j++)
            largest = fabs(g[j]) > largest ? fabs(g[j]) : largest;
        if (largest < 1e-6)
            break;
        /* two-loop recursion: direction = -H g */
        for (long j = 0; j < n; j++)
            direction[j] = -g[j];
        for (int k = 0; k < stored; k++) {
            int h = (newest - k + HISTORY) % HISTORY;
            alpha[h] = rho[h] * dot(s + h * n, direction, n);
            for (long j = 0; j < n; j++)
                direction[j] -= alpha[h] * y[h * n + j];
        }
        double gamma = 1 / sqrt(dot(g, g, n));
        if (stored) {
            int h = newest;
            gamma = dot(s + h * n, y + h * n, n) / dot(y + h * n, y + h * n, n);
        }
        for (long j = 0; j < n; j++)
            direction[j] *= gamma;
        for (int k = stored - 1; k >= 0; k--) {
            int h = (newest - k + HISTORY) % HISTORY;
            double beta = rho[h] * dot(y + h * n, direction, n);
            for (long j = 0; j < n; j++)
                direction[j] += (alpha[h] - beta) * s[h * n + j];
        }
        double slope = dot(g, direction, n), step = 1, next_value = value;
        if (slope >= 0)
            break;
        int tries;
        for (tries = 0; tries < 40; tries++, step /= 2) {
            for (long j = 0; j < n; j++)
                next[j] = w[j] + step * direction[j];
            next_value = objective(t, rows, row_count, target, next, next_g);
            if (next_value <= value + 1e-4 * step * slope)
                break;
        }
        if (tries == 40)
            break;
        newest = (newest + 1) % HISTORY;
        for (long j = 0; j < n; j++) {
            s[newest * n + j] = next[j] - w[j];
            y[newest * n + j] = next_g[j] - g[j];
        }
        double sy = dot(s + newest * n, y + newest * n, n);
        if (sy > 1e-12) {
            rho[newest] = 1 / sy;
            stored += stored < HISTORY;
        } else {
            newest = (newest - 1 + HISTORY) % HISTORY;
        }
        memcpy(w, next, (size_t)n * sizeof *w);
        memcpy(g, next_g, (size_t)n * sizeof *g);
        value = next_value;
    }
    free(rows);
    free(target);
    free(g);
    free(next);
    free(next_g);
    free(direction);
    free(s);
    free(y);
    return w;
}

/* A weight as the model file holds it, in thousandths. */
static long thousandths(double w)
{
    return (long)floor(w * 1000 + 0.5);
}

struct job {
    const struct training *t;
    int family;
    double *weights;
};

struct queue {
    pthread_mutex_t lock;
    struct job *jobs;
    int count, next;
};

static void *worker(void *arg)
{
    struct queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        int i = q->next < q->count ? q->next++ : -1;
        pthread_mutex_unlock(&q->lock);
        if (i < 0)
            return NULL;
        q->jobs[i].weights = fit(q->jobs[i].t, q->jobs[i].family);
    }
}

static void run_jobs(struct job *jobs, int count)
{
    struct queue q = {.jobs = jobs, .count = count};
    pthread_mutex_init(&q.lock, NULL);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&threads[i], NULL, worker, &q) != 0) {
            fputs("train_logistic: cannot start a thread\n", stderr);
            exit(1);
        }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&q.lock);
}

static void print_held(const struct corpus *cp, const struct training *t, struct job *jobs)
{
    for (long p = 0; p < cp->posts; p++) {
        if (cp->fold[p] != t->fold)
            continue;
        printf("held %ld", p);
        for (int f = 0; f < cp->families; f++) {
            long sum = 0, count = 0;
            for (long i = cp->start[p]; i < cp->start[p + 1]; i++) {
                long j = t->local[cp->ids[i]];
                long k = j >= 0 ? thousandths(jobs[f].weights[j]) : 0;
                sum += k;
                count += k != 0;
            }
            if (count < cp->min_features)
                printf(" none");
            else
                printf(" %.17g", (double)sum / 1000 / sqrt((double)count));
        }
        putchar('\n');
    }
}

static void print_weights(const struct corpus *cp, const struct training *t, struct job *jobs)
{
    for (long f = 0; f < cp->features; f++) {
        long j = t->local[f], k[MAX_FAMILIES] = {0};
        int any = 0;
        for (int fam = 0; j >= 0 && fam < cp->families; fam++)
            any |= (k[fam] = thousandths(jobs[fam].weights[j])) != 0;
        if (!any)
            continue;
        printf("weight %ld", f);
        for (int fam = 0; fam < cp->families; fam++)
            printf(" %ld", k[fam]);
        putchar('\n');
    }
}

static int read_long(long *v)
{
    return scanf("%ld", v) == 1;
}

static void read_corpus(struct corpus *cp)
{
    long head[8];
    for (int i = 0; i < 8; i++)
        if (!read_long(&head[i]))
            goto bad;
    cp->families = (int)head[0];
    cp->folds = (int)head[1];
    cp->features = head[2];
    cp->posts = head[3];
    cp->min_posts = (int)head[4];
    cp->min_features = (int)head[5];
    cp->c = (double)head[6];
    cp->iterations = (int)head[7];
    if (cp->families < 1 || cp->families > MAX_FAMILIES || cp->folds < 1 || cp->features < 1 ||
        cp->features > INT_MAX || cp->posts < 1 || cp->min_posts < 1 || cp->min_features < 1 ||
        cp->c <= 0 || cp->iterations < 1)
        goto bad;
    cp->fold = checked(calloc((size_t)cp->posts, sizeof *cp->fold));
    cp->labels = checked(calloc((size_t)cp->posts, sizeof *cp->labels));
    cp->part = checked(calloc((size_t)cp->posts, sizeof *cp->part));
    cp->start = checked(calloc((size_t)cp->posts + 1, sizeof *cp->start));
    size_t capacity = 1 << 20, used = 0;
    cp->ids = checked(malloc(capacity * sizeof *cp->ids));
    for (long p = 0; p < cp->posts; p++) {
        long fold, labels, part, count, id;
        if (!read_long(&fold) || !read_long(&labels) || !read_long(&part) || !read_long(&count) ||
            fold < 0 || fold >= cp->folds || labels < 0 || labels >= 1 << cp->families ||
            (part != 0 && part != 1) || count < 0)
            goto bad;
        cp->fold[p] = (int)fold;
        cp->labels[p] = (int)labels;
        cp->part[p] = (char)part;
        cp->start[p] = (long)used;
        for (long i = 0; i < count; i++) {
            if (!read_long(&id) || id < 0 || id >= cp->features)
                goto bad;
            if (used == capacity)
                cp->ids = checked(realloc(cp->ids, (capacity *= 2) * sizeof *cp->ids));
            cp->ids[used++] = (int)id;
        }
    }
    cp->start[cp->posts] = (long)used;
    return;
bad:
    fputs("train_logistic: bad input (see the header of tests/flags/train_logistic.c)\n", stderr);
    exit(2);
}

int main(void)
{
    struct corpus cp;
    memset(&cp, 0, sizeof cp);
    read_corpus(&cp);
    /* training[fold] scores that fold's posts; training[folds] (every post) is the model written */
    int sets = cp.folds + 1, count = sets * cp.families;
    struct training *training = checked(calloc((size_t)sets, sizeof *training));
    struct job *jobs = checked(calloc((size_t)count, sizeof *jobs));
    for (int i = 0; i < sets; i++) {
        training_init(&training[i], &cp, i < cp.folds ? i : -1);
        for (int f = 0; f < cp.families; f++)
            jobs[i * cp.families + f] = (struct job){.t = &training[i], .family = f};
    }
    run_jobs(jobs, count);
    for (int i = 0; i < sets; i++) {
        if (i < cp.folds)
            print_held(&cp, &training[i], jobs + i * cp.families);
        else
            print_weights(&cp, &training[i], jobs + i * cp.families);
        for (int f = 0; f < cp.families; f++)
            free(jobs[i * cp.families + f].weights);
        training_free(&training[i]);
    }
    free(jobs);
    free(training);
    return fflush(stdout) == 0 ? 0 : 1;
}
