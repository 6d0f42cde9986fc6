#ifndef NQBA_VERSION_H
#define NQBA_VERSION_H
#define NQ_VERSION "0.1.0"
#endif
