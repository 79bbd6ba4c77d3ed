"""--models-only: rebuild a fixture model without redoing its reference's
analyses, after checking that the model built now is the committed one."""
import sys

import numpy as np
import torch


def committed_input(name, ref, model64):
    """The committed reference `ref`'s input batch as float32, after checking
    that `model64` (float64, eval) gives its float64 logits (to their 9
    written digits) and its targets; exits naming the difference otherwise.
    Returns the batch and the logits' largest relative deviation."""
    x32 = torch.tensor(np.asarray(ref['input'], dtype=np.float32)).reshape(ref['inputShape'])
    with torch.no_grad():
        logits = model64(x32.double())
    committed = torch.tensor(ref['logits'], dtype=torch.float64).reshape(logits.shape)
    deviation = ((logits - committed).abs().max() / committed.abs().max()).item()
    if deviation > 1e-8 or logits.argmax(dim=1).tolist() != ref['targets']:
        sys.exit('%s: the model built here is not the committed reference\'s (float64 logits %.2g off, relative; '
                 'targets %s, committed %s): run without --models-only'
                 % (name, deviation, logits.argmax(dim=1).tolist(), ref['targets']))
    return x32, deviation
