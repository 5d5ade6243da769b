"""Reading CIFAR-100 or an image folder; writing the image-classification channel layout."""
