# gnuplot -e "dat='model.dat'; out='docs/mpi-efficiency.svg'" bench/mpi/plot-model.gp
# The α–β projection of bench/mpi/model.py --dat: weak-scaling efficiency
# against the rank count, with the overlap (solid) and with one reduction
# after the backward (dashed).  Columns: p, then per (shape, link) the two.
set terminal svg size 900,540 font "sans,12"
set output out
set logscale x 2
set xrange [8:1024]
set yrange [65:100]
set xlabel "ranks p (weak scaling: each rank keeps the shape's B)"
set ylabel "projected efficiency (%)"
set key bottom left
set grid
set title "bptt MPI, ring all-reduce model, alpha = 5 us (bench/mpi/model.py)"
plot dat using 1:2 with linespoints lw 2 lc 1 title "(256,256,100,32) f64, 25 Gb/s", \
     dat using 1:3 with lines dt 2 lw 2 lc 1 notitle, \
     dat using 1:4 with linespoints lw 2 lc 2 title "(256,256,100,32) f64, 100 Gb/s", \
     dat using 1:5 with lines dt 2 lw 2 lc 2 notitle, \
     dat using 1:6 with linespoints lw 2 lc 3 title "(512,512,50,64) f64, 25 Gb/s", \
     dat using 1:7 with lines dt 2 lw 2 lc 3 notitle, \
     dat using 1:8 with linespoints lw 2 lc 4 title "(512,512,50,64) f64, 100 Gb/s", \
     dat using 1:9 with lines dt 2 lw 2 lc 4 notitle, \
     dat using 1:10 with linespoints lw 2 lc 5 title "(256,256,100,32) f32, 25 Gb/s", \
     dat using 1:14 with linespoints lw 2 lc 6 title "(512,512,50,64) f32, 25 Gb/s"
