package riblt
