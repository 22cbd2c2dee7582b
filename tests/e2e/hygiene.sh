# End-to-end attacks, sourced by run.sh (which provides $EG, $H, $T, $DF, the counters and
# the helpers; daemon-lib.sh is sourced before).
