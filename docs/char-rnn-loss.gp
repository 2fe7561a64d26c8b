# Loss curve of the default char-rnn run.  From the repository's root:
#   build/examples/char-rnn > docs/char-rnn.log && gnuplot docs/char-rnn-loss.gp
set terminal svg size 640,360 font "sans,12"
set output "docs/char-rnn-loss.svg"
set xlabel "SGD step (chunk of T = 32 bytes x B = 4 streams)"
set ylabel "cross-entropy per byte (nats)"
set grid
set key off
set title "char-rnn on examples/data/alice.txt (hidden 128 tanh)"
plot "< grep '^step' docs/char-rnn.log" using 2:4 with linespoints pt 7 ps 0.5
