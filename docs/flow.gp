# gnuplot script written by bptt-flow; run it in its directory
set terminal svg size 1000,460 dynamic font 'sans,12'
set output 'flow.svg'
set multiplot layout 1,2 title "Error flow back from a loss at the last step T: measured (solid) and (rho*max|f'|)^tau (dashed)\n64 units, T = 100, inputs N(0, 0.1), geometric mean of 16 sequences" noenhanced
set logscale y
set format y '1e%T'
set grid
set xlabel 'lag tau = T - t' noenhanced
set ylabel '||dL(T)/dy(t)||' noenhanced
set key bottom left noenhanced
set xrange [0:99]
set title "tanh units, max|f'| = 1" noenhanced
plot 'flow.dat' using 1:2 with lines lw 2 lc rgb '#1b9e77' title 'rho 0.5: fitted rate 0.497', \
     (0.5)**x with lines dt 2 lc rgb '#1b9e77' notitle, \
     'flow.dat' using 1:3 with lines lw 2 lc rgb '#d95f02' title 'rho 0.9: fitted rate 0.888', \
     (0.9)**x with lines dt 2 lc rgb '#d95f02' notitle, \
     'flow.dat' using 1:4 with lines lw 2 lc rgb '#7570b3' title 'rho 1.0: fitted rate 0.973', \
     (1)**x with lines dt 2 lc rgb '#7570b3' notitle, \
     'flow.dat' using 1:5 with lines lw 2 lc rgb '#e7298a' title 'rho 1.1: fitted rate 1.007', \
     (1.1)**x with lines dt 2 lc rgb '#e7298a' notitle, \
     'flow.dat' using 1:6 with lines lw 2 lc rgb '#66a61e' title 'rho 1.5: fitted rate 1.051', \
     (1.5)**x with lines dt 2 lc rgb '#66a61e' notitle
set title "logistic units, max|f'| = 0.25" noenhanced
plot 'flow.dat' using 1:7 with lines lw 2 lc rgb '#1b9e77' title 'rho 0.5: fitted rate 0.121', \
     (0.125)**x with lines dt 2 lc rgb '#1b9e77' notitle, \
     'flow.dat' using 1:8 with lines lw 2 lc rgb '#d95f02' title 'rho 0.9: fitted rate 0.209', \
     (0.225)**x with lines dt 2 lc rgb '#d95f02' notitle, \
     'flow.dat' using 1:9 with lines lw 2 lc rgb '#7570b3' title 'rho 1.0: fitted rate 0.229', \
     (0.25)**x with lines dt 2 lc rgb '#7570b3' notitle, \
     'flow.dat' using 1:10 with lines lw 2 lc rgb '#e7298a' title 'rho 1.1: fitted rate 0.248', \
     (0.275)**x with lines dt 2 lc rgb '#e7298a' notitle, \
     'flow.dat' using 1:11 with lines lw 2 lc rgb '#66a61e' title 'rho 1.5: fitted rate 0.320', \
     (0.375)**x with lines dt 2 lc rgb '#66a61e' notitle
unset multiplot
