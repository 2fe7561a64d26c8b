# Loss curves of the default char-rnn run.  From the repository's root:
#   build/examples/char-rnn -o /tmp/char-rnn.ckpt > docs/char-rnn.log
#   gnuplot docs/char-rnn-loss.gp
set terminal svg size 640,360 font "sans,12"
set output "docs/char-rnn-loss.svg"
set xlabel "Adam update (chunk of T = 32 bytes x B = 8 streams)"
set ylabel "cross-entropy per byte (nats)"
set grid
set key top right
set title "char-rnn on GPL-3 (128 tanh units)"
plot "< grep '^update' docs/char-rnn.log" using 2:4 with linespoints pt 7 ps 0.5 title "training (mean since the last line)", \
     "< grep '^update' docs/char-rnn.log" using 2:6 with linespoints pt 5 ps 0.5 title "validation (last tenth)"
