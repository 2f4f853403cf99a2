# SPDX-License-Identifier: GPL-2.0-only
# ns per packet against rules loaded, for cgfw, a plain LPM trie and an empty
# program. run.sh calls: gnuplot -e "datafile='D'; outfile='O'; subtitle='S'" lookup.gp
# Columns of D (written by cgfw_bench --dat): rules, empty v4, empty v6,
# lpm hit v4, lpm miss v4, lpm hit v6, lpm miss v6, cgfw hit v4, cgfw miss v4,
# cgfw hit v6, cgfw miss v6.
set terminal pngcairo size 1200,520 font "sans,10"
set output outfile
set multiplot layout 1,2 title "cgfw cgroup egress, BPF\\_PROG\\_RUN ns/packet (median). ".subtitle
set logscale x 10
set format x "10^{%L}"
set xlabel "rules loaded"
set ylabel "ns per packet"
set yrange [0:*]
set grid
set key top left
set style line 1 lc rgb "#c0392b" lw 2 pt 7
set style line 2 lc rgb "#c0392b" lw 2 pt 6 dt 2
set style line 3 lc rgb "#2471a3" lw 2 pt 5
set style line 4 lc rgb "#2471a3" lw 2 pt 4 dt 2
set style line 5 lc rgb "#7f8c8d" lw 2 pt 9
set title "IPv4"
plot datafile using 1:8 with linespoints ls 1 title "cgfw hit", \
     datafile using 1:9 with linespoints ls 2 title "cgfw miss", \
     datafile using 1:4 with linespoints ls 3 title "LPM trie hit", \
     datafile using 1:5 with linespoints ls 4 title "LPM trie miss", \
     datafile using 1:2 with linespoints ls 5 title "empty program"
set title "IPv6"
plot datafile using 1:10 with linespoints ls 1 title "cgfw hit", \
     datafile using 1:11 with linespoints ls 2 title "cgfw miss", \
     datafile using 1:6 with linespoints ls 3 title "LPM trie hit", \
     datafile using 1:7 with linespoints ls 4 title "LPM trie miss", \
     datafile using 1:3 with linespoints ls 5 title "empty program"
unset multiplot
