"""Inside the network: the parts of the Feature maps page that open one convolution (by hand, sizes, what a
filter wants to see) and the view of how training changed the weights, shared by Train and Compare."""
