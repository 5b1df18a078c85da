/* stability.c: the original design's legacy heuristic, shown while the
 * model is not ready. 1 = calm book, 0 = a move is likely. A tight spread
 * and low recent volatility score high; each term saturates smoothly:
 *   stability = (1 - tanh(spread_bps / 10)) * (1 - tanh(volatility_bps / 5)) */
#include <math.h>

#include "features/features.h"

double qw_stability_score(const qw_features *f)
{
    double spread = f->x[0] > 0 ? f->x[0] : 0;
    double vol_bps = f->x[3] * 1e4;
    return (1 - tanh(spread / 10)) * (1 - tanh(vol_bps / 5));
}
