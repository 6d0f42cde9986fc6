NAME          FIXED
ROWS
 N  COST
 G  LIM1
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    X1        COST         1.0   LIM1         1.0
    X2        COST         2.0   LIM1         1.0
    MARKER                 'MARKER'                 'INTEND'
RHS
    RHS       LIM1         1.0
BOUNDS
 UP BND       X1           1.0
 UP BND       X2           1.0
ENDATA
