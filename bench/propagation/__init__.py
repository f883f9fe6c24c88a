"""`python -m bench propagation`: hotline publish → gateway DNS and ISP RPZ secondary."""
