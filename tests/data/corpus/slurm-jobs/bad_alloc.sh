#!/bin/bash
#SBATCH --job-name=graph_build
#SBATCH --mem=400M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# A C++ graph builder reserves an adjacency vector larger than the job's address space.
ulimit -v 250000
cat > graph.cpp <<'CPP'
#include <iostream>
#include <vector>
int main() {
    std::cout << "reading edges" << std::endl;
    std::vector<long> adj;
    adj.reserve(200000000);
    std::cout << "reserved " << adj.capacity() << std::endl;
    return 0;
}
CPP
g++ -O1 -o graph graph.cpp && ./graph
